#pragma once
// Small helpers over Node-API (the C API of node_api.h): status checks that become C++ exceptions,
// and vibetensor's errors thrown into JavaScript as the matching Error type. See Note [Node frontend]
// in node/addon.cpp.
#include <node_api.h>

#include <string>

#include "core/error.h"

namespace vt::node {

// A Node-API call that failed: the message Node-API gives (thrown as a JS Error at the boundary).
struct NapiError : std::exception {
  std::string message;
  explicit NapiError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

void check(napi_env env, napi_status status, const char* what);
#define VT_NAPI(env, call) ::vt::node::check(env, (call), #call)

// Throws the exception being handled into JavaScript: vibetensor's TypeError kind as a TypeError,
// ValueError and IndexError as RangeError, the others as Error, each with its message. Call in a catch.
void throw_current(napi_env env) noexcept;

// Runs a native callback body, turning any C++ exception into a pending JavaScript exception.
template <class F>
napi_value guarded(napi_env env, F f) noexcept {
  try {
    return f();
  } catch (...) {
    throw_current(env);
    return nullptr;
  }
}

std::string string_of(napi_env env, napi_value v, const char* what);
double number_of(napi_env env, napi_value v, const char* what);
bool bool_of(napi_env env, napi_value v, const char* what);
napi_valuetype type_of(napi_env env, napi_value v);
napi_value js_string(napi_env env, const std::string& s);
napi_value js_number(napi_env env, double d);
napi_value js_bool(napi_env env, bool b);
napi_value js_undefined(napi_env env);
napi_value js_null(napi_env env);

// f(item) for each element of a JS array, or once for a value that is not an array.
template <class F>
void for_each_item(napi_env env, napi_value v, F f) {
  bool array = false;
  VT_NAPI(env, napi_is_array(env, v, &array));
  if (!array) return f(v);
  uint32_t n;
  VT_NAPI(env, napi_get_array_length(env, v, &n));
  for (uint32_t i = 0; i < n; ++i) {
    napi_value e;
    VT_NAPI(env, napi_get_element(env, v, i, &e));
    f(e);
  }
}

// The callback's arguments (at most 16) and `this`.
struct CallbackInfo {
  napi_value self = nullptr;
  size_t argc = 0;
  napi_value argv[16] = {};
  void* data = nullptr;
};
CallbackInfo callback_info(napi_env env, napi_callback_info info);

}  // namespace vt::node
