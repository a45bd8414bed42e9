#include "cuda/item.h"

#include <cuda_runtime_api.h>

#include "cuda/capture_state.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"

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

}  // namespace vt::cuda
