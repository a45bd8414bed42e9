#pragma once
// Per-element kernels that need addresses rather than values (gathers, scatters, triangles,
// masked_select): f(linear, offsets) for every element of an iteration shape, where offsets[k]
// is the element's byte offset in operand k. The plan is the elementwise one of loops.cuh
// (size-1 dims dropped, contiguous dims merged, 32-bit index math when every offset fits), so
// `linear` is the element's row-major position in operand 0's shape.
#include <array>

#include "ops/cuda/loops.cuh"

namespace vt::cuda_kernels {

template <int N, class index_t, class F>
__global__ void __launch_bounds__(kThreads) offsets_kernel(index_t numel, OffsetCalc<N, index_t> oc, F f) {
  index_t base = index_t(blockIdx.x) * (kThreads * kUnroll) + threadIdx.x;
#pragma unroll
  for (int j = 0; j < kUnroll; ++j) {
    index_t idx = base + index_t(j) * kThreads;
    if (idx < numel) {
      index_t off[N];
      oc.get(idx, off);
      int64_t o[N];
#pragma unroll
      for (int k = 0; k < N; ++k) o[k] = int64_t(off[k]);  // a negative stride wraps back in the cast
      f(int64_t(idx), o);
    }
  }
}

// Operand 0 (`shape_of`) gives the iteration shape; `others` are broadcast to it. f is a device
// functor `void operator()(int64_t linear, const int64_t (&offsets)[N]) const`. Runs on the
// current stream of shape_of's device.
template <int N, class F>
void launch_with_offsets(const Tensor& shape_of, const std::array<const Tensor*, N - 1>& others, const F& f) {
  int64_t numel = shape_of.numel();
  if (numel == 0) return;
  std::array<Operand, N - 1> ins;
  int64_t esz[N];
  esz[0] = itemsize(shape_of.dtype());
  for (int k = 0; k < N - 1; ++k) {
    ins[k] = Operand::of(*others[k]);
    esz[k + 1] = itemsize(others[k]->dtype());
  }
  ElementwisePlan plan(shape_of, ins.data(), N - 1, esz);
  cuda::DeviceGuard guard(shape_of.device().index);
  cudaStream_t stream = cuda::current_stream(shape_of.device().index).handle();
  int64_t blocks = (numel + kThreads * kUnroll - 1) / (kThreads * kUnroll);
  VT_CHECK(blocks < (int64_t(1) << 31), "CUDA indexing: ", numel, " elements are too many for one launch");
  if (plan.fits_32bit()) {
    offsets_kernel<N, uint32_t, F><<<unsigned(blocks), kThreads, 0, stream>>>(uint32_t(numel), OffsetCalc<N, uint32_t>(plan), f);
  } else {
    offsets_kernel<N, uint64_t, F><<<unsigned(blocks), kThreads, 0, stream>>>(uint64_t(numel), OffsetCalc<N, uint64_t>(plan), f);
  }
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

// Raw element copies by size: gathers and triangles move bits and need no arithmetic.
template <class F> void dispatch_bytes(int64_t size, F f) {
  switch (size) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    default: return f.template operator()<uint64_t>();
  }
}

}  // namespace vt::cuda_kernels
