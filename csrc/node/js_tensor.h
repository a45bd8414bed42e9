#pragma once
// The JavaScript Tensor class: a JS object owning one vt::Tensor (napi_wrap), made only by the addon,
// and tensors to and from TypedArrays. See Note [Node frontend] in node/addon.cpp.
#include <node_api.h>

#include <atomic>
#include <memory>

#include "core/tensor.h"

namespace vt::node {

// The addon's state for one JavaScript environment (napi_set_instance_data).
struct Instance {
  napi_ref tensor_class = nullptr;
  // Releases the ArrayBuffer of a zero-copy tensor on the JS thread, whichever thread frees the storage.
  napi_threadsafe_function release_buffer = nullptr;
  // Set when the environment tears down (its cleanup hook runs before the thread-safe function's own):
  // a view's storage freed after that must not call release_buffer, which no longer exists.
  std::shared_ptr<std::atomic<bool>> closing = std::make_shared<std::atomic<bool>>(false);
  std::atomic<int> in_flight{0};  // async ops started and not yet settled
  int max_in_flight = 64;         // VT_NODE_MAX_INFLIGHT, setMaxInFlight()
};
Instance& instance(napi_env env);

// Defines exports.Tensor.
void define_tensor_class(napi_env env, napi_value exports);
// A new JS Tensor owning t; null for an undefined tensor (a gradient that did not flow).
napi_value wrap_tensor(napi_env env, Tensor t);
bool is_tensor(napi_env env, napi_value v);
// The tensor of a JS Tensor; a TypeError naming `what` for anything else.
const Tensor& unwrap_tensor(napi_env env, napi_value v, const char* what);

// A CPU tensor over a TypedArray's elements (Float32Array, Float64Array, Int32Array, BigInt64Array),
// of `shape` (its element count) or 1-d: a copy, or with copy=false a view of the array's memory that
// keeps the ArrayBuffer alive (the buffer must not be transferred or detached meanwhile).
Tensor tensor_from_typed_array(napi_env env, napi_value array, const DimVector* shape, bool copy);
// A TypedArray of t's elements in row-major order (t moved to the CPU first): a copy, or with
// copy=false, for a contiguous CPU tensor, a view of its memory that keeps the tensor alive.
napi_value typed_array_of(napi_env env, const Tensor& t, bool copy);

}  // namespace vt::node
