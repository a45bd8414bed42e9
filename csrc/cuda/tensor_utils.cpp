#include "cuda/tensor_utils.h"

#include <cuda_runtime_api.h>

#include "alloc/allocator.h"
#include "alloc/pinned.h"
#include "cuda/device.h"
#include "cuda/error.h"
#include "cuda/graph.h"

namespace vt::cuda {

namespace {
Scalar scalar_from(const void* p, DType dt) {
  return VT_DISPATCH_ALL(dt, "item", [&]<class T>() -> Scalar {
    T v;
    std::memcpy(&v, p, sizeof(T));
    if constexpr (std::is_same_v<T, bool>) return Scalar(v);
    else if constexpr (std::is_integral_v<T>) return Scalar(int64_t(v));
    else return Scalar(double(opmath_t<T>(v)));
  });
}
}  // namespace

Scalar item(const Tensor& t) {
  VT_CHECK_VALUE(t.numel() == 1, "item: a Tensor with ", t.numel(), " elements cannot be converted to a Python number");
  if (t.device().is_cpu()) return scalar_from(t.data_ptr(), t.dtype());
  int dev = t.device().index;
  DeviceGuard g(dev);
  Stream s = current_stream(dev);
  check_not_capturing("item");  // before the copy, which capture would reject
  alignas(8) unsigned char buf[8];
  VT_CUDA_CHECK(cudaMemcpyAsync(buf, t.data_ptr(), size_t(itemsize(t.dtype())), cudaMemcpyDeviceToHost, s.handle()));
  s.synchronize("item");
  return scalar_from(buf, t.dtype());
}

void record_stream(const Tensor& t, const Stream& s) {
  if (t.device().is_cpu()) {
    // A pinned host tensor read or written by a copy on s.
    if (t->storage()->data()) alloc::pinned_record_stream(t->storage()->data(), s);
    return;
  }
  VT_CHECK(t.device().index == s.device(), "record_stream: the tensor is on ", t.device(), " but the stream on cuda:", s.device());
  alloc::DeviceAllocator* a = alloc::cuda_allocator_if_created();
  if (a && t->storage()->data()) a->record_stream(t->storage()->data(), s.device(), s.handle());
}

}  // namespace vt::cuda
