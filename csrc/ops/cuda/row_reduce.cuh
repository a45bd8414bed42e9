#pragma once
// Sums across the threads of one row of a block (threadIdx.x; threadIdx.y picks the row), and
// aligned vector loads, for the row-wise CUDA kernels (normalization, losses).
#include <cstdint>

namespace vt::cuda_kernels {

// Sums v[0..N) over the blockDim.x threads that share threadIdx.y; every one of them gets the
// totals. blockDim.x is a multiple of 32 (a warp never spans two rows). The order of additions
// depends only on the block shape, so results are deterministic. `smem` holds
// blockDim.y * 32 * N values; every thread of the block must call this (it synchronizes).
template <class A, int N> __device__ __forceinline__ void row_allreduce(A (&v)[N], A* smem) {
#pragma unroll
  for (int k = 0; k < N; ++k)
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v[k] += __shfl_xor_sync(0xffffffffu, v[k], offset);
  if (blockDim.x == 32) return;
  int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32, nwarps = int(blockDim.x) / 32;
  A* s = smem + threadIdx.y * 32 * N;
  if (lane == 0)
#pragma unroll
    for (int k = 0; k < N; ++k) s[warp * N + k] = v[k];
  __syncthreads();
#pragma unroll
  for (int k = 0; k < N; ++k) {
    A t = A(0);
    for (int w = 0; w < nwarps; ++w) t += s[w * N + k];
    v[k] = t;
  }
  __syncthreads();  // smem may be reused by the next call
}

// kVec elements of type D loaded or stored at once (16 bytes for float / half, or 1 element).
template <class D, int kVec> struct alignas(sizeof(D) * kVec) VecOf {
  D v[kVec];
};

template <int kVec, class D> __device__ __forceinline__ VecOf<D, kVec> load_vec(const D* p, int64_t i) {
  return reinterpret_cast<const VecOf<D, kVec>*>(p)[i];
}
template <int kVec, class D> __device__ __forceinline__ void store_vec(D* p, int64_t i, const VecOf<D, kVec>& v) {
  reinterpret_cast<VecOf<D, kVec>*>(p)[i] = v;
}

}  // namespace vt::cuda_kernels
