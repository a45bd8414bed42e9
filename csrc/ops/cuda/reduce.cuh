#pragma once
// Building blocks shared by the CUDA reduction and softmax kernels: warp and block reductions
// over any accumulator type (deterministic: a fixed merge order), and grid sizing from the
// device's multiprocessor count.
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/loops.cuh"
#include "ops/reduction_util.h"

namespace vt::cuda_kernels {

// Moves any trivially copyable value across the warp as 32-bit words: shfl(word) is one
// __shfl*_sync of a word.
template <class A, class Shfl> __device__ __forceinline__ A shuffle_words(A v, const Shfl& shfl) {
  constexpr int W = int((sizeof(A) + 3) / 4);
  uint32_t w[W] = {};
  memcpy(w, &v, sizeof(A));
#pragma unroll
  for (int k = 0; k < W; ++k) w[k] = shfl(w[k]);
  memcpy(&v, w, sizeof(A));
  return v;
}

// The value of lane (lane + offset).
template <class A> __device__ __forceinline__ A shfl_down(A v, int offset) {
  return shuffle_words(v, [offset](uint32_t w) { return __shfl_down_sync(0xffffffffu, w, offset); });
}

// The value of lane `src`.
template <class A> __device__ __forceinline__ A shfl_from(A v, int src) {
  return shuffle_words(v, [src](uint32_t w) { return __shfl_sync(0xffffffffu, w, src); });
}

// Note [CUDA group reductions]
// A "group" is the blockDim.x threads of one threadIdx.y: either one warp (blockDim.x == 32, any
// blockDim.y: a warp per row) or the whole block (blockDim.y == 1, blockDim.x a multiple of 32,
// at most 1024: a block per row). group_allreduce merges one value per thread and returns the
// result to every thread of the group. The merge tree is fixed, so results do not depend on
// timing. In block mode it synchronizes the block: every thread of the block must call it.
template <class A, class Merge> __device__ __forceinline__ A group_allreduce(A a, const Merge& merge) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) a = merge(a, shfl_down(a, off));
  if (blockDim.x == 32) return shfl_from(a, 0);
  __shared__ __align__(16) unsigned char raw[32 * sizeof(A)];
  A* partial = reinterpret_cast<A*>(raw);
  int warp = int(threadIdx.x) / 32, nwarps = int(blockDim.x) / 32;
  __syncthreads();  // the previous call's readers are done with `partial`
  if (threadIdx.x % 32 == 0) partial[warp] = a;
  __syncthreads();
  A r = partial[0];
  for (int w = 1; w < nwarps; ++w) r = merge(r, partial[w]);
  return r;
}

// Multiprocessors of a device (cached; the attribute query does not synchronize).
inline int multiprocessor_count(int device) {
  static std::array<std::atomic<int>, cuda::kMaxDevices> cache{};
  int n = cache[size_t(device)].load(std::memory_order_relaxed);
  if (n == 0) {
    VT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    cache[size_t(device)].store(n, std::memory_order_relaxed);
  }
  return n;
}

// Blocks of `threads` threads (no dynamic shared memory) of `kernel` resident per multiprocessor,
// times the multiprocessor count: one full wave. Cached per kernel and device by the caller's
// static `cache`.
template <class Kernel>
int64_t resident_blocks(Kernel kernel, int threads, int device, std::array<std::atomic<int>, cuda::kMaxDevices>& cache) {
  int per_sm = cache[size_t(device)].load(std::memory_order_relaxed);
  if (per_sm == 0) {
    VT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
    if (per_sm < 1) per_sm = 1;
    cache[size_t(device)].store(per_sm, std::memory_order_relaxed);
  }
  return int64_t(per_sm) * multiprocessor_count(device);
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace vt::cuda_kernels
