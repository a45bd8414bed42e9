// DLPack exchange: Tensor.__dlpack__ / __dlpack_device__ and from_dlpack, zero-copy both ways.
#include <vector>

#include "core/gil_free_thread.h"
#include "python/bindings.h"
#include "plugin/dlpack_view.h"
#include "python/dlpack.h"
#include "python/thread_gil.h"

#if VT_CUDA
#include "cuda/stream.h"
#endif

namespace vt::python {

namespace {


DType from_dl(DLDataType t) {
  VT_CHECK_TYPE(t.lanes == 1, "from_dlpack: vector types (lanes=", int(t.lanes), ") are not supported");
  if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
  if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
  if (t.code == kDLFloat && t.bits == 16) return DType::Float16;
  if (t.code == kDLBfloat && t.bits == 16) return DType::BFloat16;
  if (t.code == kDLInt && t.bits == 64) return DType::Int64;
  if (t.code == kDLInt && t.bits == 32) return DType::Int32;
  if (t.code == kDLBool && t.bits == 8) return DType::Bool;
  if (t.code == kDLUInt && t.bits == 8) return DType::Bool;  // numpy bool arrives as uint8 in old producers
  detail::throw_error(ErrorKind::Type, "from_dlpack: unsupported DLPack dtype (code ", int(t.code), ", bits ", int(t.bits),
                      "): expected float32/64/16, bfloat16, int64, int32 or bool");
}

struct ExportCtx {
  Tensor tensor;
  std::vector<int64_t> shape, strides;
  DLManagedTensor managed;
};

void export_deleter(DLManagedTensor* m) { delete static_cast<ExportCtx*>(m->manager_ctx); }

void capsule_destructor(PyObject* cap) {
  // Only a capsule nobody consumed still owns its tensor.
  if (PyCapsule_IsValid(cap, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
    if (m && m->deleter) m->deleter(m);
  }
}

nb::object to_dlpack(const Tensor& t) {
  auto* ctx = new ExportCtx();
  ctx->tensor = t;
  ctx->shape.assign(t.sizes().begin(), t.sizes().end());
  ctx->strides.assign(t.strides().begin(), t.strides().end());
  DLTensor& d = ctx->managed.dl_tensor;
  d.data = t->storage()->data();
  d.byte_offset = uint64_t(t->offset() * itemsize(t.dtype()));
  d.device = {t.device().is_cuda() ? kDLCUDA : kDLCPU, t.device().index};
  d.ndim = int32_t(t.dim());
  d.dtype = plugin::dl_dtype(t.dtype());
  d.shape = ctx->shape.data();
  d.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = export_deleter;
  PyObject* cap = PyCapsule_New(&ctx->managed, "dltensor", capsule_destructor);
  if (!cap) { delete ctx; throw nb::python_error(); }
  return nb::steal(cap);
}

Tensor from_capsule(nb::handle cap) {
  VT_CHECK_TYPE(PyCapsule_IsValid(cap.ptr(), "dltensor"), "from_dlpack: expected an unconsumed DLPack capsule named "
                "'dltensor' (a capsule can be consumed only once)");
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
  const DLTensor& d = m->dl_tensor;
  DType dtype = from_dl(d.dtype);
  Device dev;
  if (d.device.device_type == kDLCPU || d.device.device_type == kDLCUDAHost) dev = Device{DeviceType::CPU, 0};
  else if (d.device.device_type == kDLCUDA) dev = Device{DeviceType::CUDA, int8_t(d.device.device_id)};
  else detail::throw_error(ErrorKind::Type, "from_dlpack: unsupported device type ", d.device.device_type);
  VT_CHECK_VALUE(d.ndim >= 0 && (d.ndim == 0 || d.shape), "from_dlpack: invalid DLPack tensor: ndim ", d.ndim,
                 " (expected ndim >= 0 and a shape array)");
  DimVector sizes(IntArrayRef(d.shape, size_t(d.ndim)));
  numel_of(sizes);  // RuntimeError for a negative size or an overflowing shape
  DimVector strides = d.strides ? DimVector(IntArrayRef(d.strides, size_t(d.ndim))) : contiguous_strides(sizes);
  // The storage is exactly what the producer's view spans (negative strides are refused here).
  int64_t nbytes = storage_nbytes_of(sizes, strides, 0, itemsize(dtype));
  VT_CHECK(d.byte_offset <= uint64_t(INT64_MAX), "from_dlpack: byte_offset ", d.byte_offset, " does not fit in int64");
  char* base = static_cast<char*>(d.data) + d.byte_offset;
  // The producer's deleter may touch Python objects (numpy, torch): run it with the GIL.
  // An engine thread that may not take the GIL hands it to the caller (Note [Threads that may not take the GIL]).
  Storage st = Storage::make(base, size_t(nbytes), dev, [m](void*) {
    auto release = [m] {
      if (m->deleter) m->deleter(m);
    };
    if (gil_forbidden()) return defer_to_gil_holder(release);
    EngineGil g;  // Note [Engine threads and Python thread states]
    release();
  });
  PyCapsule_SetName(cap.ptr(), "used_dltensor");
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(st), dtype, sizes, strides, 0));
}

}  // namespace

void bind_dlpack(nb::module_& m) {
  nb::class_<Tensor> t = nb::borrow<nb::class_<Tensor>>(m.attr("Tensor"));
  t.def("__dlpack__", [](const Tensor& s, nb::kwargs kw) {
        // The consumer's stream (an int; None means the legacy default stream, -1 no sync) must
        // see the work queued on this tensor's device so far.
#if VT_CUDA
        if (s.device().is_cuda()) {
          nb::object so = kw.contains("stream") ? nb::object(kw["stream"]) : nb::none();
          int64_t code = so.is_none() ? 1 : nb::cast<int64_t>(so);
          if (code != -1) {
            cuda::Stream mine = cuda::current_stream(s.device().index);
            // 1 and 0 both name the legacy default stream, which is vibetensor's default.
            cudaStream_t theirs = (code == 1 || code == 0) ? nullptr : reinterpret_cast<cudaStream_t>(uintptr_t(code));
            if (theirs != mine.handle()) cuda::Stream(theirs, mine.device()).wait_stream(mine);
          }
        }
#else
        (void)kw;
#endif
        return to_dlpack(s);
      })
      .def("__dlpack_device__", [](const Tensor& s) {
        return nb::make_tuple(int(s.device().is_cuda() ? kDLCUDA : kDLCPU), int(s.device().index));
      });
  m.def("_from_dlpack_capsule", &from_capsule);
}

}  // namespace vt::python
