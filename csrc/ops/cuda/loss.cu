// CUDA kernels of nll_loss and nll_loss_backward, with the CPU kernels' semantics (ops/cpu/loss.cpp):
// reduction none / sum / mean, mean divides by the number of targets that are not ignore_index
// (0 / 0 = nan when all are), and class indices are bounds-checked on the device (Note [CUDA
// index checks]). cross_entropy is Composite (log_softmax + nll_loss) and so runs here too.
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/index_check.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/cuda/row_reduce.cuh"
#include "ops/nll_loss_args.h"
#include "ops/reduction_util.h"

namespace vt::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kReduceThreads = 512;  // the sum / mean reduction runs in one block: deterministic

unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b > 65536 ? 65536 : b);
}

// self viewed as [N, C, Dx], target as [N, Dx] (Dx: the product of the extra dims).
struct NllDims {
  int64_t N, C, Dx, ignore_index;
};

// The class of target element k, or -1 when it is ignored or out of bounds (reported).
__device__ __forceinline__ int64_t target_class(const int64_t* t, int64_t k, const NllDims& s, const DeviceIndexCheck& chk) {
  int64_t c = t[k];
  if (c == s.ignore_index) return -1;
  if (c < 0 || c >= s.C) {
    chk.report(c);
    return -1;
  }
  return c;
}

// The element of self that target element k = n * Dx + d picks: self[n, c, d].
__device__ __forceinline__ int64_t picked(int64_t k, int64_t c, const NllDims& s) {
  int64_t n = k / s.Dx, d = k - n * s.Dx;
  return (n * s.C + c) * s.Dx + d;
}

template <class D>
__global__ void nll_loss_none_kernel(const D* __restrict__ x, const int64_t* __restrict__ t, D* __restrict__ out, NllDims s,
                                     DeviceIndexCheck chk) {
  using A = dev_opmath_t<D>;
  int64_t n = s.N * s.Dx, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += step) {
    int64_t c = target_class(t, k, s, chk);
    out[k] = c < 0 ? from_opmath<D>(A(0)) : from_opmath<D>(-to_opmath(x[picked(k, c, s)]));
  }
}

// One block: the sum of -self[picked] over counted targets (in double, as the CPU) and, for
// mean, divided by their count.
template <class D>
__global__ void nll_loss_reduce_kernel(const D* __restrict__ x, const int64_t* __restrict__ t, D* __restrict__ out,
                                       NllDims s, bool mean, DeviceIndexCheck chk) {
  using A = dev_opmath_t<D>;
  __shared__ double smem[32 * 2];
  double acc[2] = {0.0, 0.0};  // total, count
  int64_t n = s.N * s.Dx;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    int64_t c = target_class(t, k, s, chk);
    if (c < 0) continue;
    acc[0] -= double(to_opmath(x[picked(k, c, s)]));
    acc[1] += 1.0;
  }
  row_allreduce(acc, smem);
  if (threadIdx.x == 0) out[0] = from_opmath<D>(A(mean ? acc[0] / acc[1] : acc[0]));
}

// The number of targets that are not ignore_index (for mean's backward).
__global__ void count_counted_kernel(const int64_t* __restrict__ t, int64_t n, int64_t ignore_index, double* count) {
  __shared__ double smem[32];
  double acc[1] = {0.0};
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) acc[0] += t[k] != ignore_index ? 1.0 : 0.0;
  row_allreduce(acc, smem);
  if (threadIdx.x == 0) *count = acc[0];
}

// grad_input (zeroed) gets -grad (none: per target; sum: grad[0]; mean: grad[0] / count) at
// each counted target's class.
template <class D>
__global__ void nll_loss_backward_kernel(const D* __restrict__ g, const int64_t* __restrict__ t, D* __restrict__ gi,
                                         NllDims s, bool per_target, const double* count, DeviceIndexCheck chk) {
  using A = dev_opmath_t<D>;
  int64_t n = s.N * s.Dx, step = int64_t(gridDim.x) * blockDim.x;
  A scale = A(0);
  if (!per_target) {
    scale = to_opmath(g[0]);
    if (count) scale = scale / A(*count);
  }
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += step) {
    int64_t c = target_class(t, k, s, chk);
    if (c >= 0) gi[picked(k, c, s)] = from_opmath<D>(-(per_target ? to_opmath(g[k]) : scale));
  }
}

NllDims nll_dims(const NllShape& s, int64_t ignore_index) { return {s.N, s.C, s.D, ignore_index}; }

Tensor nll_loss_cuda(const Tensor& self, const Tensor& target, int64_t ignore_index, const std::string& reduction) {
  const char* op = "nll_loss";
  LossReduction red = parse_loss_reduction(reduction, op);
  check_cuda(op, self);
  NllDims s = nll_dims(check_nll_args(op, self, target), ignore_index);
  Tensor x = contiguous_as(self, self.dtype()), t = contiguous_as(target, DType::Int64);
  Tensor out = empty_tensor(red == LossReduction::None ? DimVector(target.sizes()) : DimVector{}, self.dtype(), self.device());
  int64_t n = s.N * s.Dx;
  if (red == LossReduction::None && n == 0) return out;
  int dev = self.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  IndexCheck check(op, self.device());
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    const D* xp = static_cast<const D*>(x.data_ptr());
    const int64_t* tp = static_cast<const int64_t*>(t.data_ptr());
    D* o = static_cast<D*>(out.data_ptr());
    if (red == LossReduction::None)
      nll_loss_none_kernel<D><<<blocks_for(n), kThreads, 0, stream>>>(xp, tp, o, s, check.device_side());
    else
      nll_loss_reduce_kernel<D><<<1, kReduceThreads, 0, stream>>>(xp, tp, o, s, red == LossReduction::Mean,
                                                                  check.device_side());
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  check.raise_if_bad("a class index in [0, ", s.C, ") or ignore_index=", ignore_index);
  return out;
}

Tensor nll_loss_backward_cuda(const Tensor& grad, const Tensor& self, const Tensor& target, int64_t ignore_index,
                              const std::string& reduction) {
  const char* op = "nll_loss_backward";
  LossReduction red = parse_loss_reduction(reduction, op);
  check_cuda(op, self);
  NllDims s = nll_dims(check_nll_args(op, self, target), ignore_index);
  int64_t n = s.N * s.Dx;
  Tensor g = grad;
  if (g.device() != self.device()) {  // a 0-d CPU grad given to backward()
    NoGradGuard no_grad;
    g = ops::to_device(g, self.device(), false);
  }
  g = contiguous_as(g, self.dtype());
  VT_CHECK_VALUE(g.numel() == (red == LossReduction::None ? n : 1), op, ": grad of shape ", shape_str(grad.sizes()),
                 " does not match the loss");
  Tensor t = contiguous_as(target, DType::Int64);
  Tensor gi = empty_tensor(self.sizes(), self.dtype(), self.device());
  int dev = self.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  if (gi.numel() > 0) VT_CUDA_CHECK(cudaMemsetAsync(gi.data_ptr(), 0, size_t(gi.numel() * itemsize(gi.dtype())), stream));
  if (n == 0) return gi;
  const int64_t* tp = static_cast<const int64_t*>(t.data_ptr());
  Tensor count;
  if (red == LossReduction::Mean) {
    count = empty_tensor({1}, DType::Float64, self.device());
    count_counted_kernel<<<1, kReduceThreads, 0, stream>>>(tp, n, ignore_index, static_cast<double*>(count.data_ptr()));
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  }
  IndexCheck check(op, self.device());
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    nll_loss_backward_kernel<D><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<const D*>(g.data_ptr()), tp, static_cast<D*>(gi.data_ptr()), s, red == LossReduction::None,
        count.defined() ? static_cast<const double*>(count.data_ptr()) : nullptr, check.device_side());
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  check.raise_if_bad("a class index in [0, ", s.C, ") or ignore_index=", ignore_index);
  return gi;
}

}  // namespace

VT_REGISTER_KERNEL("vt::nll_loss", CUDA, nll_loss_cuda);
VT_REGISTER_KERNEL("vt::nll_loss_backward", CUDA, nll_loss_backward_cuda);

}  // namespace vt::cuda_kernels
