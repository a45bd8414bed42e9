// CUDA kernels of dropout, native_dropout and dropout_backward. Element i of the row-major input
// is kept exactly when the CPU kernel keeps it for the same generator state (Note [Dropout] in
// ops/cpu/dropout.cpp): the same Philox counters (philox.h is host/device identical) and the
// same integer threshold, so one seed gives the same bool mask on every device.
#include <cmath>
#include <tuple>

#include "ops/cuda/elementwise.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/dropout_args.h"
#include "ops/cuda/random_counters.cuh"

namespace vt::cuda_kernels {
namespace {

// mask[i] = bits(seed, offset + i) >> 11 < threshold (uniform < 1 - p on the integers);
// out[i] = x[i] * (mask[i] * scale), a product as on the CPU (a dropped inf or nan gives nan).
template <class D>
__global__ void dropout_kernel(const D* __restrict__ x, D* __restrict__ out, bool* __restrict__ mask, int64_t n,
                               RandomCounters rc, uint64_t threshold, dev_opmath_t<D> scale) {
  using A = dev_opmath_t<D>;
  int64_t step = int64_t(gridDim.x) * blockDim.x;
  uint64_t seed = rc.key(), base = rc.counter(0);  // read the graph's state once per thread
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    bool k = (random::bits64(seed, base + uint64_t(i)) >> 11) < threshold;
    mask[i] = k;
    out[i] = from_opmath<D>(to_opmath(x[i]) * (A(k) * scale));
  }
}

std::tuple<Tensor, Tensor> native_dropout_cuda(const Tensor& input, double p) {
  check_native_dropout_p(p);
  check_cuda("dropout", input);
  check_dropout_input(input);
  Tensor x = contiguous_as(input, input.dtype());
  Tensor out = empty_tensor(input.sizes(), input.dtype(), input.device());
  Tensor mask = empty_tensor(input.sizes(), DType::Bool, input.device());
  int64_t n = input.numel();
  // Reserved even for n == 0, as the CPU does, so both devices consume the same counters.
  RandomCounters rc = random_counters(uint64_t(n));
  if (n == 0) return {out, mask};
  double keep = 1.0 - p;
  uint64_t threshold = uint64_t(std::ceil(keep * 9007199254740992.0));  // ceil(keep * 2^53), as the CPU
  int dev = input.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  int64_t blocks = (n + 255) / 256;
  if (blocks > 65536) blocks = 65536;
  VT_DISPATCH_FLOATING(input.dtype(), "dropout", [&]<class T>() {
    using D = dev_t<T>;
    using A = dev_opmath_t<D>;
    dropout_kernel<D><<<unsigned(blocks), 256, 0, stream>>>(static_cast<const D*>(x.data_ptr()), static_cast<D*>(out.data_ptr()),
                                                           static_cast<bool*>(mask.data_ptr()), n, rc, threshold,
                                                           A(1.0 / keep));
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {out, mask};
}

Tensor dropout_cuda(const Tensor& input, double p, bool train) { return dropout_with(input, p, train, native_dropout_cuda); }

template <class D> struct MaskedScale {
  dev_opmath_t<D> scale;
  __device__ D operator()(D g, bool k) const {
    using A = dev_opmath_t<D>;
    return from_opmath<D>(to_opmath(g) * (A(k) * scale));
  }
};

// grad * mask * scale (grad and mask of one shape, any strides).
Tensor dropout_backward_cuda(const Tensor& grad, const Tensor& mask, double scale) {
  check_cuda("dropout_backward", grad);
  check_dropout_backward_args(grad, mask);
  Tensor out = empty_tensor(mask.sizes(), grad.dtype(), grad.device());
  VT_DISPATCH_FLOATING(grad.dtype(), "dropout_backward", [&]<class T>() {
    using D = dev_t<T>;
    gpu_kernel<D, D, bool>(out, {Operand::of(grad), Operand::of(mask)}, MaskedScale<D>{dev_opmath_t<D>(scale)});
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::dropout", CUDA, dropout_cuda);
VT_REGISTER_KERNEL("vt::native_dropout", CUDA, native_dropout_cuda);
VT_REGISTER_KERNEL("vt::dropout_backward", CUDA, dropout_backward_cuda);

}  // namespace vt::cuda_kernels
