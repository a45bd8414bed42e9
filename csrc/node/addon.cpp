// vibetensor's Node.js addon (Node-API): the C++ core driven from JavaScript. The JS package is
// node/ (index.js, index.d.ts); this file registers the native functions it builds on.
#include <node_api.h>

#include <cstdlib>

#include "autograd/engine.h"
#include "core/grad_mode.h"
#include "dispatch/dispatcher.h"
#include "node/async_call.h"
#include "node/js_tensor.h"
#include "node/js_values.h"
#include "node/napi_util.h"
#include "plugin/loader.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#if VT_CUDA
#include "cuda/device.h"
#include "cuda/stream.h"
#endif

// Note [Node frontend]
// The addon links the same core as the Python module (dispatcher, ops, autograd, policies, probes)
// and exposes it through Node-API:
// - Tensors are JS objects owning a vt::Tensor (js_tensor.h). From a TypedArray they are a copy, or
//   with {copy: false} a view of the array's memory (the storage keeps a reference to the array and
//   releases it on the JS thread through a thread-safe function, whichever thread frees it);
//   toTypedArray({copy: false}) of a contiguous CPU tensor is a view of the tensor's memory that keeps
//   the tensor alive.
// - Every op is reached by name through the dispatcher: opHandle(name) resolves the op once (the JS
//   side caches the handle, as Python's op objects resolve theirs at import), call(handle, ...args)
//   reads the arguments by the op's schema (js_values.h) and runs Dispatcher::call_boxed, so the
//   dispatch policies (dispatch.lookup, dispatch.stack_copy) apply as they do to boxed calls, and
//   plugin ops (vt.ops) are reachable too.
// - Async first: callAsync / backwardAsync return a Promise; the arguments are read on the JS thread,
//   the op runs on a libuv worker with the JS thread's grad mode, and the Promise settles on the JS
//   thread. At most VT_NODE_MAX_INFLIGHT (default 64; setMaxInFlight) async calls are in flight per
//   environment; one more is rejected at once with a RangeError (backpressure the caller sees rather
//   than an unbounded queue). The synchronous call blocks the JS thread for the op (and for a CUDA
//   op, only for its launch).
// - Autograd (backward, grad), grad mode, policies, probe counters and CUDA device functions mirror the
//   Python module's; without CUDA in the build, the CUDA functions say so.
// - An async op runs beside the JS thread: a tensor it writes (the leaves' .grad under backwardAsync, the
//   tensor of an in-place async op) must not be read or used until its Promise settles, as a CUDA tensor
//   must not be read before its stream work ends; the addon does not lock tensors against that.

namespace vt::node {
namespace {

OperatorEntry& op_of(napi_env env, napi_value handle) {
  if (type_of(env, handle) != napi_external) detail::throw_error(ErrorKind::Type, "expected an op handle (opHandle())");
  void* p = nullptr;
  VT_NAPI(env, napi_get_value_external(env, handle, &p));
  return *static_cast<OperatorEntry*>(p);
}

napi_value op_handle(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    std::string name = string_of(env, c.argc ? c.argv[0] : js_undefined(env), "opHandle: name");
    if (name.find("::") == std::string::npos) name = "vt::" + name;
    OperatorEntry* e = Dispatcher::get().find_defined(name);
    VT_CHECK_TYPE(e, "no op named ", name);
    napi_value ext;
    VT_NAPI(env, napi_create_external(env, e, nullptr, nullptr, &ext));
    return ext;
  });
}

napi_value op_schema(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    return js_string(env, op_of(env, c.argv[0]).schema.text);
  });
}

napi_value op_names(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value a;
    VT_NAPI(env, napi_create_array(env, &a));
    uint32_t i = 0;
    for (OperatorEntry* e : Dispatcher::get().operators())
      if (e->has_schema) VT_NAPI(env, napi_set_element(env, a, i++, js_string(env, e->name)));
    return a;
  });
}

napi_value call(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    VT_CHECK_TYPE(c.argc >= 1, "call: expected an op handle");
    OperatorEntry& op = op_of(env, c.argv[0]);
    Stack stack = stack_of(env, op, c.argv + 1, c.argc - 1);
    Dispatcher::get().call_boxed(op, stack);
    return results_of(env, op, stack);
  });
}

napi_value call_async(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    VT_CHECK_TYPE(c.argc >= 1, "callAsync: expected an op handle");
    OperatorEntry* op = &op_of(env, c.argv[0]);
    auto stack = std::make_shared<Stack>(stack_of(env, *op, c.argv + 1, c.argc - 1));
    return start_async(env, op->name.c_str(), [op, stack] { Dispatcher::get().call_boxed(*op, *stack); },
                       [op, stack](napi_env e) { return results_of(e, *op, *stack); });
  });
}

napi_value from_typed_array(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    VT_CHECK_TYPE(c.argc >= 1, "fromTypedArray: expected a TypedArray");
    DimVector shape;
    bool has_shape = c.argc >= 2 && type_of(env, c.argv[1]) != napi_undefined && type_of(env, c.argv[1]) != napi_null;
    if (has_shape) shape = int_list_of(env, c.argv[1], "fromTypedArray: shape");
    bool copy = c.argc < 3 || type_of(env, c.argv[2]) == napi_undefined || bool_of(env, c.argv[2], "copy");
    return wrap_tensor(env, tensor_from_typed_array(env, c.argv[0], has_shape ? &shape : nullptr, copy));
  });
}

TensorList tensors_of(napi_env env, napi_value v, const char* what) {
  TensorList out;
  if (type_of(env, v) == napi_null || type_of(env, v) == napi_undefined) return out;
  for_each_item(env, v, [&](napi_value e) {
    out.push_back(type_of(env, e) == napi_null ? Tensor() : unwrap_tensor(env, e, what));
  });
  return out;
}

bool flag(napi_env env, const CallbackInfo& c, size_t i, const char* what) {
  return i < c.argc && type_of(env, c.argv[i]) != napi_undefined && bool_of(env, c.argv[i], what);
}

// backward(tensors, grads, retainGraph, createGraph) and backwardAsync: into the leaves' .grad.
struct BackwardArgs {
  TensorList outputs, grads;
  autograd::BackwardOptions opts;
};
BackwardArgs backward_args(napi_env env, const CallbackInfo& c) {
  BackwardArgs b;
  b.outputs = tensors_of(env, c.argc ? c.argv[0] : js_undefined(env), "backward: tensors");
  b.grads = tensors_of(env, c.argc > 1 ? c.argv[1] : js_undefined(env), "backward: grads");
  b.opts.create_graph = flag(env, c, 3, "createGraph");
  b.opts.keep_graph = flag(env, c, 2, "retainGraph") || b.opts.create_graph;
  return b;
}

napi_value backward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    BackwardArgs b = backward_args(env, callback_info(env, info));
    autograd::run_backward(b.outputs, b.grads, b.opts);
    return js_undefined(env);
  });
}

napi_value backward_async(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto b = std::make_shared<BackwardArgs>(backward_args(env, callback_info(env, info)));
    return start_async(env, "backward", [b] { autograd::run_backward(b->outputs, b->grads, b->opts); },
                       [](napi_env e) { return js_undefined(e); });
  });
}

// grad(outputs, inputs, gradOutputs, retainGraph, createGraph, allowUnused) -> [Tensor | null]
napi_value grad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    TensorList outs = tensors_of(env, c.argc ? c.argv[0] : js_undefined(env), "grad: outputs");
    autograd::BackwardOptions o;
    o.inputs = tensors_of(env, c.argc > 1 ? c.argv[1] : js_undefined(env), "grad: inputs");
    VT_CHECK_VALUE(!o.inputs.empty(), "grad: expected at least one input");
    TensorList grads = tensors_of(env, c.argc > 2 ? c.argv[2] : js_undefined(env), "grad: gradOutputs");
    o.create_graph = flag(env, c, 4, "createGraph");
    o.keep_graph = flag(env, c, 3, "retainGraph") || o.create_graph;
    o.allow_unused = flag(env, c, 5, "allowUnused");
    TensorList r = autograd::run_backward(outs, grads, o);
    napi_value a;
    VT_NAPI(env, napi_create_array_with_length(env, r.size(), &a));
    for (size_t i = 0; i < r.size(); ++i) VT_NAPI(env, napi_set_element(env, a, uint32_t(i), wrap_tensor(env, r[i])));
    return a;
  });
}

napi_value set_grad_enabled(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    bool prev = GradMode::is_enabled();
    GradMode::set_enabled(bool_of(env, c.argc ? c.argv[0] : js_undefined(env), "setGradEnabled"));
    return js_bool(env, prev);
  });
}

napi_value is_grad_enabled(napi_env env, napi_callback_info) {
  return guarded(env, [&] { return js_bool(env, GradMode::is_enabled()); });
}

napi_value policy_get(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    return js_string(env, policy::find(string_of(env, c.argv[0], "policy name")).value());
  });
}

napi_value policy_set(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    policy::set(string_of(env, c.argv[0], "policy name"), string_of(env, c.argv[1], "policy value"));
    return js_undefined(env);
  });
}

napi_value policy_apply(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    policy::apply_spec(string_of(env, c.argv[0], "policy spec"));
    return js_undefined(env);
  });
}

napi_value policy_current(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value o;
    VT_NAPI(env, napi_create_object(env, &o));
    for (const auto& [name, value] : policy::current())
      VT_NAPI(env, napi_set_named_property(env, o, name.c_str(), js_string(env, value)));
    return o;
  });
}

napi_value counters(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value o;
    VT_NAPI(env, napi_create_object(env, &o));
    for (const auto& [name, n] : probes::counters_snapshot())
      VT_NAPI(env, napi_set_named_property(env, o, name.c_str(), js_number(env, double(n))));
    return o;
  });
}

napi_value reset_counters(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    probes::reset_counters();
    return js_undefined(env);
  });
}

napi_value cuda_device_count(napi_env env, napi_callback_info) {
#if VT_CUDA
  return guarded(env, [&] { return js_number(env, cuda::device_count()); });
#else
  return guarded(env, [&] { return js_number(env, 0); });
#endif
}

napi_value cuda_synchronize(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
#if VT_CUDA
    VT_CHECK(cuda::device_count() > 0, "cuda.synchronize: no CUDA GPU is available (", cuda::unavailable_reason(), ")");
    for (int d = 0; d < cuda::device_count(); ++d) cuda::device_synchronize(d, "node.cuda.synchronize");
#else
    VT_ERROR("cuda.synchronize: this vibetensor addon was built without CUDA");
#endif
    return js_undefined(env);
  });
}

napi_value set_max_in_flight(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    double n = number_of(env, c.argc ? c.argv[0] : js_undefined(env), "setMaxInFlight");
    VT_CHECK_VALUE(n >= 1 && n <= 1e6 && n == double(int(n)), "setMaxInFlight: expected an integer from 1 to 1000000, got ", n);
    instance(env).max_in_flight = int(n);
    return js_undefined(env);
  });
}

napi_value max_in_flight(napi_env env, napi_callback_info) {
  return guarded(env, [&] { return js_number(env, instance(env).max_in_flight); });
}

napi_value in_flight(napi_env env, napi_callback_info) {
  return guarded(env, [&] { return js_number(env, instance(env).in_flight.load()); });
}

// loadLibrary(path) -> [op names]: an operator plugin (Note [Plugin ops] in plugin/loader.h).
napi_value load_library(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    std::vector<std::string> names = plugin::load_library(string_of(env, c.argc ? c.argv[0] : js_undefined(env), "loadLibrary: path"));
    napi_value a;
    VT_NAPI(env, napi_create_array_with_length(env, names.size(), &a));
    for (size_t i = 0; i < names.size(); ++i) VT_NAPI(env, napi_set_element(env, a, uint32_t(i), js_string(env, names[i])));
    return a;
  });
}

void finalize_instance(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

napi_value init(napi_env env, napi_value exports) {
  return guarded(env, [&] {
    Dispatcher::get().finalize();  // registration problems surface at load, as in Python
    auto* inst = new Instance();
    if (const char* cap = std::getenv("VT_NODE_MAX_INFLIGHT")) {
      int n = std::atoi(cap);
      VT_CHECK_VALUE(n >= 1, "VT_NODE_MAX_INFLIGHT: expected a positive integer, got '", cap, "'");
      inst->max_in_flight = n;
    }
    VT_NAPI(env, napi_set_instance_data(env, inst, finalize_instance, nullptr));
    if (const char* spec = std::getenv("VT_POLICY")) policy::apply_spec(spec);
    define_tensor_class(env, exports);
    const std::pair<const char*, napi_callback> fns[] = {
        {"opHandle", op_handle},         {"opSchema", op_schema},           {"opNames", op_names},
        {"call", call},                  {"callAsync", call_async},         {"fromTypedArray", from_typed_array},
        {"backward", backward},          {"backwardAsync", backward_async}, {"grad", grad},
        {"setGradEnabled", set_grad_enabled}, {"isGradEnabled", is_grad_enabled},
        {"policyGet", policy_get},       {"policySet", policy_set},         {"policyApply", policy_apply},
        {"policyCurrent", policy_current}, {"counters", counters},          {"resetCounters", reset_counters},
        {"cudaDeviceCount", cuda_device_count}, {"cudaSynchronize", cuda_synchronize},
        {"setMaxInFlight", set_max_in_flight}, {"maxInFlight", max_in_flight}, {"inFlight", in_flight},
        {"loadLibrary", load_library},
    };
    for (const auto& [name, fn] : fns) {
      napi_value f;
      VT_NAPI(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f));
      VT_NAPI(env, napi_set_named_property(env, exports, name, f));
    }
    return exports;
  });
}

}  // namespace
}  // namespace vt::node

NAPI_MODULE_INIT() { return vt::node::init(env, exports); }
