// See napi_util.h.
#include "node/napi_util.h"

namespace vt::node {

void check(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return;
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  throw NapiError(std::string("Node-API call failed: ") + what + ": " +
                  (info && info->error_message ? info->error_message : "unknown error"));
}

void throw_current(napi_env env) noexcept {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;  // a JavaScript exception is already on its way
  try {
    throw;
  } catch (const vt::Error& e) {
    if (e.kind() == ErrorKind::Type) napi_throw_type_error(env, nullptr, e.what());
    else if (e.kind() == ErrorKind::Value || e.kind() == ErrorKind::Index) napi_throw_range_error(env, nullptr, e.what());
    else napi_throw_error(env, nullptr, e.what());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (...) {
    napi_throw_error(env, nullptr, "vibetensor: unknown C++ exception");
  }
}

napi_valuetype type_of(napi_env env, napi_value v) {
  napi_valuetype t;
  VT_NAPI(env, napi_typeof(env, v, &t));
  return t;
}

std::string string_of(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_string) detail::throw_error(ErrorKind::Type, what, " must be a string");
  size_t n = 0;
  VT_NAPI(env, napi_get_value_string_utf8(env, v, nullptr, 0, &n));
  std::string s(n, '\0');
  VT_NAPI(env, napi_get_value_string_utf8(env, v, s.data(), n + 1, &n));
  return s;
}

double number_of(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_number) detail::throw_error(ErrorKind::Type, what, " must be a number");
  double d;
  VT_NAPI(env, napi_get_value_double(env, v, &d));
  return d;
}

bool bool_of(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_boolean) detail::throw_error(ErrorKind::Type, what, " must be a boolean");
  bool b;
  VT_NAPI(env, napi_get_value_bool(env, v, &b));
  return b;
}

napi_value js_string(napi_env env, const std::string& s) {
  napi_value v;
  VT_NAPI(env, napi_create_string_utf8(env, s.data(), s.size(), &v));
  return v;
}
napi_value js_number(napi_env env, double d) {
  napi_value v;
  VT_NAPI(env, napi_create_double(env, d, &v));
  return v;
}
napi_value js_bool(napi_env env, bool b) {
  napi_value v;
  VT_NAPI(env, napi_get_boolean(env, b, &v));
  return v;
}
napi_value js_undefined(napi_env env) {
  napi_value v;
  VT_NAPI(env, napi_get_undefined(env, &v));
  return v;
}
napi_value js_null(napi_env env) {
  napi_value v;
  VT_NAPI(env, napi_get_null(env, &v));
  return v;
}

CallbackInfo callback_info(napi_env env, napi_callback_info info) {
  CallbackInfo c;
  c.argc = 16;
  VT_NAPI(env, napi_get_cb_info(env, info, &c.argc, c.argv, &c.self, &c.data));
  if (c.argc > 16) c.argc = 16;
  return c;
}

}  // namespace vt::node
