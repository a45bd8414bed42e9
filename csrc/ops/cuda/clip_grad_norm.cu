// CUDA kernels of vt::_fused_clip_grad_norm_ (Note [Multi-tensor gradient clipping] in
// ops/optim/clip_grad_norm.h): sums of squares per chunk, one block for the norm and coefficient, the
// scaling; or the suite's optim family under kernels.backend=triton.
#include <cmath>

#include "cuda/device.h"
#include "cuda/stream.h"
#include "ops/cuda/chunk_table_upload.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/multi_tensor_apply.cuh"
#include "ops/cuda/row_reduce.cuh"
#include "ops/optim/clip_grad_norm.h"
#include "ops/optim/multi_tensor.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// partial[first + block]: the sum of squares of the block's chunk, in the opmath type A.
template <class D, class A>
__global__ void __launch_bounds__(kThreads) sumsq_kernel(TensorChunks<1> a, A* partial, int64_t first) {
  __shared__ A smem[32];
  const int s = a.tensor[blockIdx.x];
  const int64_t start = int64_t(a.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[s], start + kChunk);
  const D* g = static_cast<const D*>(a.ptr[0][s]);
  A v[1] = {A(0)};
  for (int64_t i = start + threadIdx.x; i < end; i += kThreads) {
    const A x = A(to_opmath(g[i]));
    v[0] += x * x;
  }
  row_allreduce(v, smem);
  if (threadIdx.x == 0) partial[first + blockIdx.x] = v[0];
}

// out = [norm, coefficient] from n partial sums; one block, a fixed order of additions.
template <class A>
__global__ void __launch_bounds__(kThreads) clip_coef_kernel(const A* partial, int64_t n, A* out, A max_norm) {
  __shared__ A smem[32];
  A v[1] = {A(0)};
  for (int64_t i = threadIdx.x; i < n; i += kThreads) v[0] += partial[i];
  row_allreduce(v, smem);
  if (threadIdx.x == 0) {
    const A norm = sqrt(v[0]);
    out[0] = norm;
    out[1] = optim::clip_coef<A>(norm, max_norm);
  }
}

// Every element of the block's chunk times out[1], unless out[1] is 1 (x * 1 is x).
template <class D, class A>
__global__ void __launch_bounds__(kThreads) scale_kernel(TensorChunks<1> a, const A* out) {
  const A coef = out[1];
  if (coef == A(1)) return;
  const int s = a.tensor[blockIdx.x];
  const int64_t start = int64_t(a.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[s], start + kChunk);
  D* g = static_cast<D*>(a.ptr[0][s]);
  for (int64_t i = start + threadIdx.x; i < end; i += kThreads) g[i] = from_opmath<D>(A(to_opmath(g[i])) * coef);
}

Tensor fused_clip_grad_norm_cuda(const TensorList& grads, double max_norm) {
  optim::check_clip_grads(grads, max_norm);
  VT_CHECK_VALUE(!grads.empty(), "_fused_clip_grad_norm_: expected at least one gradient on a CUDA device, got none");
  const Device dev = grads[0].device();
  cuda::DeviceGuard guard(dev.index);
  const DType opmath = grads[0].dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  Tensor out = ops::empty({2}, opmath, dev);
  const int64_t chunks = chunk_count(grads);
  // the suite's three launches (kernels.backend=triton), over gradients with elements
  const bool by_suite = chunks > 0 && suite_multi_tensor({&grads}, [&](const Tensor& table, const suite::ChunkTable& t) {
    Tensor partial = ops::empty({t.n_rows}, DType::Float32, dev);
    return suite::clip_grad_norm(table, t, grads[0], partial, out, max_norm);
  });
  if (!by_suite) {
    cudaStream_t stream = cuda::current_stream(dev.index).handle();
    // no gradient with elements: one zero partial, the norm 0
    Tensor partial = chunks == 0 ? ops::zeros({1}, opmath, dev) : ops::empty({chunks}, opmath, dev);
    VT_DISPATCH_FLOATING(grads[0].dtype(), "_fused_clip_grad_norm_", [&]<class T>() {
      using D = dev_t<T>;
      using A = dev_opmath_t<D>;
      A* part = static_cast<A*>(partial.data_ptr());
      A* o = static_cast<A*>(out.data_ptr());
      for_each_chunk_launch<1>({&grads}, [&](const TensorChunks<1>& a, int blocks, int64_t first) {
        sumsq_kernel<D, A><<<blocks, kThreads, 0, stream>>>(a, part, first);
        VT_CUDA_KERNEL_LAUNCH_CHECK();
      });
      clip_coef_kernel<A><<<1, kThreads, 0, stream>>>(part, partial.numel(), o, A(max_norm));
      VT_CUDA_KERNEL_LAUNCH_CHECK();
      for_each_chunk_launch<1>({&grads}, [&](const TensorChunks<1>& a, int blocks, int64_t) {
        scale_kernel<D, A><<<blocks, kThreads, 0, stream>>>(a, o);
        VT_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  }
  optim::bump_versions({&grads});
  return ops::select(out, 0, 0);
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_clip_grad_norm_", CUDA, fused_clip_grad_norm_cuda);

}  // namespace vt::cuda_kernels
