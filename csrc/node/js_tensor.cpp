// See js_tensor.h.
#include "node/js_tensor.h"

#include <cstring>

#include "autograd/node.h"
#include "core/shape.h"
#include "node/napi_util.h"
#include "ops/ops.h"

namespace vt::node {
namespace {

const napi_type_tag kTensorTag = {0x76745f74656e736fULL, 0x725f6e6f64656a73ULL};

void finalize_tensor(napi_env, void* data, void*) { delete static_cast<Tensor*>(data); }

// new Tensor(external): only the addon constructs, handing over a heap Tensor.
napi_value construct(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    if (c.argc != 1 || type_of(env, c.argv[0]) != napi_external)
      detail::throw_error(ErrorKind::Type, "Tensor: not constructible from JavaScript; use vt.tensor(), "
                          "vt.fromTypedArray() or a factory (vt.zeros, vt.randn, ...)");
    void* p = nullptr;
    VT_NAPI(env, napi_get_value_external(env, c.argv[0], &p));
    VT_NAPI(env, napi_wrap(env, c.self, p, finalize_tensor, nullptr, nullptr));
    VT_NAPI(env, napi_type_tag_object(env, c.self, &kTensorTag));
    return c.self;
  });
}

// A getter, setter or method body over `this`'s tensor.
template <class F>
napi_value on_self(napi_env env, napi_callback_info info, F f) {
  return guarded(env, [&] {
    CallbackInfo c = callback_info(env, info);
    Tensor& t = const_cast<Tensor&>(unwrap_tensor(env, c.self, "this"));
    return f(t, c);
  });
}

napi_value get_shape(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) {
    napi_value a;
    VT_NAPI(env, napi_create_array_with_length(env, size_t(t.dim()), &a));
    for (int64_t i = 0; i < t.dim(); ++i) VT_NAPI(env, napi_set_element(env, a, uint32_t(i), js_number(env, double(t.size(i)))));
    return a;
  });
}
napi_value get_dtype(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) { return js_string(env, std::string(dtype_name(t.dtype()))); });
}
napi_value get_device(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) { return js_string(env, t.device().str()); });
}
napi_value get_requires_grad(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) { return js_bool(env, t.requires_grad()); });
}
napi_value set_requires_grad(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo& c) {
    bool r = bool_of(env, c.argc ? c.argv[0] : js_undefined(env), "requiresGrad");
    VT_CHECK(r || t->is_leaf(), "requiresGrad: only a leaf tensor's flag can be changed (detach() a computed one)");
    VT_CHECK(!r || is_floating(t.dtype()), "requiresGrad: only floating point tensors can require gradients (got ",
             t.dtype(), ")");
    t->ensure_autograd_meta().requires_grad = r;
    return js_undefined(env);
  });
}
napi_value get_grad(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) {
    AutogradMeta* m = t->autograd_meta();
    const Tensor* g = !m ? nullptr : m->retained_grad ? m->retained_grad.get() : &m->grad;
    return g && g->defined() ? wrap_tensor(env, *g) : js_null(env);
  });
}
napi_value get_grad_fn(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) {
    return t->is_leaf() ? js_null(env) : js_string(env, t->grad_fn()->name());
  });
}
napi_value method_to_typed_array(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo& c) {
    bool copy = c.argc == 0 || type_of(env, c.argv[0]) == napi_undefined || bool_of(env, c.argv[0], "copy");
    return typed_array_of(env, t, copy);
  });
}
napi_value method_item(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) {
    VT_CHECK_VALUE(t.numel() == 1, "item(): expected a tensor of one element, got shape ", shape_str(t.sizes()));
    Tensor c = ops::to_dtype(t.device().is_cpu() ? t : ops::to_device(t, Device{}, false), DType::Float64);
    return js_number(env, *static_cast<const double*>(ops::contiguous(c).data_ptr()));
  });
}
napi_value method_detach(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) {
    return wrap_tensor(env, make_view(t, t.sizes(), t.strides(), t->offset()));
  });
}
napi_value method_is_contiguous(napi_env env, napi_callback_info info) {
  return on_self(env, info, [&](Tensor& t, CallbackInfo&) { return js_bool(env, t.is_contiguous()); });
}

void release_buffer_on_js_thread(napi_env env, napi_value, void*, void* data) {
  if (env) napi_delete_reference(env, static_cast<napi_ref>(data));
}

}  // namespace

Instance& instance(napi_env env) {
  void* p = nullptr;
  VT_NAPI(env, napi_get_instance_data(env, &p));
  if (!p) throw NapiError("vibetensor: the addon is not initialized in this environment");
  return *static_cast<Instance*>(p);
}

void define_tensor_class(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"shape", nullptr, nullptr, get_shape, nullptr, nullptr, napi_default, nullptr},
      {"dtype", nullptr, nullptr, get_dtype, nullptr, nullptr, napi_default, nullptr},
      {"device", nullptr, nullptr, get_device, nullptr, nullptr, napi_default, nullptr},
      {"requiresGrad", nullptr, nullptr, get_requires_grad, set_requires_grad, nullptr, napi_default, nullptr},
      {"grad", nullptr, nullptr, get_grad, nullptr, nullptr, napi_default, nullptr},
      {"gradFn", nullptr, nullptr, get_grad_fn, nullptr, nullptr, napi_default, nullptr},
      {"toTypedArray", nullptr, method_to_typed_array, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"item", nullptr, method_item, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"detach", nullptr, method_detach, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isContiguous", nullptr, method_is_contiguous, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  VT_NAPI(env, napi_define_class(env, "Tensor", NAPI_AUTO_LENGTH, construct, nullptr, sizeof(props) / sizeof(props[0]),
                                 props, &cls));
  Instance& inst = instance(env);
  VT_NAPI(env, napi_create_reference(env, cls, 1, &inst.tensor_class));
  napi_value name = js_string(env, "vibetensor.releaseBuffer");
  VT_NAPI(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                               release_buffer_on_js_thread, &inst.release_buffer));
  VT_NAPI(env, napi_unref_threadsafe_function(env, inst.release_buffer));  // never keeps the process alive
  // Registered after the thread-safe function, so it runs before that is torn down (hooks run in reverse).
  auto* flag = new std::shared_ptr<std::atomic<bool>>(inst.closing);
  VT_NAPI(env, napi_add_env_cleanup_hook(env, [](void* arg) {
    auto* f = static_cast<std::shared_ptr<std::atomic<bool>>*>(arg);
    (*f)->store(true);
    delete f;
  }, flag));
  VT_NAPI(env, napi_set_named_property(env, exports, "Tensor", cls));
}

napi_value wrap_tensor(napi_env env, Tensor t) {
  if (!t.defined()) return js_null(env);
  napi_value cls, ext, obj;
  VT_NAPI(env, napi_get_reference_value(env, instance(env).tensor_class, &cls));
  auto* p = new Tensor(std::move(t));
  VT_NAPI(env, napi_create_external(env, p, nullptr, nullptr, &ext));
  if (napi_new_instance(env, cls, 1, &ext, &obj) != napi_ok) {
    delete p;
    throw NapiError("vibetensor: could not create a Tensor object");
  }
  return obj;
}

bool is_tensor(napi_env env, napi_value v) {
  if (type_of(env, v) != napi_object) return false;
  bool tagged = false;
  VT_NAPI(env, napi_check_object_type_tag(env, v, &kTensorTag, &tagged));
  return tagged;
}

const Tensor& unwrap_tensor(napi_env env, napi_value v, const char* what) {
  if (!is_tensor(env, v)) detail::throw_error(ErrorKind::Type, what, " must be a vibetensor Tensor");
  void* p = nullptr;
  VT_NAPI(env, napi_unwrap(env, v, &p));
  return *static_cast<const Tensor*>(p);
}

Tensor tensor_from_typed_array(napi_env env, napi_value array, const DimVector* shape, bool copy) {
  bool is_typed = false;
  VT_NAPI(env, napi_is_typedarray(env, array, &is_typed));
  if (!is_typed) detail::throw_error(ErrorKind::Type, "fromTypedArray: expected a TypedArray");
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer;
  VT_NAPI(env, napi_get_typedarray_info(env, array, &type, &length, &data, &buffer, &offset));
  DType dt;
  switch (type) {
    case napi_float32_array: dt = DType::Float32; break;
    case napi_float64_array: dt = DType::Float64; break;
    case napi_int32_array: dt = DType::Int32; break;
    case napi_bigint64_array: dt = DType::Int64; break;
    default:
      detail::throw_error(ErrorKind::Type, "fromTypedArray: expected a Float32Array, Float64Array, Int32Array or "
                          "BigInt64Array");
  }
  DimVector sizes = shape ? *shape : DimVector{int64_t(length)};
  VT_CHECK_VALUE(numel_of(sizes) == int64_t(length), "fromTypedArray: shape ", shape_str(sizes), " has ",
                 numel_of(sizes), " elements but the array has ", length);
  const size_t nbytes = length * size_t(itemsize(dt));
  if (copy || length == 0) {
    Tensor t = empty_tensor(sizes, dt, Device{});
    if (nbytes) std::memcpy(t.data_ptr(), data, nbytes);
    return t;
  }
  napi_ref ref;
  VT_NAPI(env, napi_create_reference(env, array, 1, &ref));
  Instance& inst = instance(env);
  napi_threadsafe_function release = inst.release_buffer;
  Storage st = Storage::make(data, nbytes, Device{}, [release, ref, closing = inst.closing](void*) {
    if (!closing->load()) napi_call_threadsafe_function(release, ref, napi_tsfn_nonblocking);  // else: exiting
  });
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(st), dt, sizes, contiguous_strides(sizes), 0));
}

napi_value typed_array_of(napi_env env, const Tensor& t, bool copy) {
  Tensor c = t.device().is_cpu() ? t : ops::to_device(t, Device{}, false);
  napi_typedarray_type type;
  switch (c.dtype()) {
    case DType::Float32: type = napi_float32_array; break;
    case DType::Float64: type = napi_float64_array; break;
    case DType::Int32: type = napi_int32_array; break;
    case DType::Int64: type = napi_bigint64_array; break;
    case DType::Bool: type = napi_uint8_array; break;
    default:  // float16 and bfloat16 arrive as float32: JavaScript has no typed array of them
      c = ops::to_dtype(c, DType::Float32);
      type = napi_float32_array;
  }
  const bool view = !copy && c.is_contiguous() && c.numel() > 0 && c.is_same(t);
  if (!c.is_contiguous()) c = ops::contiguous(c);
  const size_t n = size_t(c.numel()), nbytes = n * size_t(itemsize(c.dtype()));
  napi_value ab = nullptr, out;
  if (view) {
    auto* keep = new Tensor(c);
    if (napi_create_external_arraybuffer(env, c.data_ptr(), nbytes, [](napi_env, void*, void* hint) {
          delete static_cast<Tensor*>(hint);
        }, keep, &ab) != napi_ok) {
      delete keep;  // external buffers refused (a V8 sandbox): copy instead
      ab = nullptr;
    }
  }
  if (!ab) {
    void* dst = nullptr;
    VT_NAPI(env, napi_create_arraybuffer(env, nbytes, &dst, &ab));
    if (nbytes) std::memcpy(dst, c.data_ptr(), nbytes);
  }
  VT_NAPI(env, napi_create_typedarray(env, type, n, ab, 0, &out));
  return out;
}

}  // namespace vt::node
