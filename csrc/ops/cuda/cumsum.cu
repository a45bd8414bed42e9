// CUDA kernel of cumsum (mirrors ops/cpu/cumsum.cpp): one thread per row along dim, running the sum in
// double for every floating dtype (int64 for integers), as the CPU kernel and torch's do.
#include <type_traits>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/reduction_util.h"
#include "ops/sort_args.h"

namespace vt::cuda_kernels {
namespace {

template <class D>
__global__ void cumsum_kernel(const D* x, D* out, int64_t rows, int64_t N, int64_t I) {
  using M = dev_opmath_t<D>;
  using A = std::conditional_t<std::is_floating_point_v<M>, double, int64_t>;
  int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  int64_t base = (r / I) * N * I + r % I;  // neighbouring threads read neighbouring elements when I > 1
  A acc = A(0);
  for (int64_t k = 0; k < N; ++k) {
    acc += A(to_opmath(x[base + k * I]));
    out[base + k * I] = from_opmath<D>(M(acc));
  }
}

Tensor cumsum_cuda(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  const char* op = "cumsum";
  check_cuda(op, self);
  ScanDim sd = scan_dim(self, dim, op);
  DType rt = sum_result_dtype(self.dtype(), dtype);
  VT_CHECK_TYPE(rt != DType::Bool, "cumsum: dtype=torch.bool is not supported (running sums need a numeric dtype)");
  Tensor x = contiguous_as(self, rt);
  Tensor out = empty_tensor(DimVector(self.sizes()), rt, self.device());
  if (self.numel() == 0) return out;
  int dev = self.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  int64_t rows = sd.layout.O * sd.layout.I;
  constexpr int kThreads = 128;
  unsigned blocks = unsigned((rows + kThreads - 1) / kThreads);
  VT_DISPATCH_NUMERIC(rt, op, [&]<class T>() {
    using D = dev_t<T>;
    cumsum_kernel<D><<<blocks, kThreads, 0, stream>>>(static_cast<const D*>(x.data_ptr()), static_cast<D*>(out.data_ptr()),
                                                      rows, sd.layout.N, sd.layout.I);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cumsum", CUDA, cumsum_cuda);

}  // namespace vt::cuda_kernels
