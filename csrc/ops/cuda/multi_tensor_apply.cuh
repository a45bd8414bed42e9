#pragma once
// The CUDA launcher of the multi-tensor ops (Note [Multi-tensor optimizer step]): every element of
// lists of tensors in one launch per chunk of tensors, the tensor pointers and the block ->
// (tensor, chunk) map travelling in the kernel's arguments (at most 4 KiB).
#include <cuda_runtime.h>

#include <array>

#include "cuda/status_check.h"
#include "dispatch/ivalue.h"  // TensorList

namespace vt::cuda_kernels {

constexpr int kMaxTensors = 36;
constexpr int kMaxBlocks = 320;
constexpr int64_t kChunk = 65536;  // elements per block
constexpr int kThreads = 512;

template <int Depth>
struct TensorChunks {
  void* ptr[Depth][kMaxTensors];  // list k's tensor in slot s
  int64_t n[kMaxTensors];
  unsigned char tensor[kMaxBlocks];  // the tensor slot block b updates
  int chunk[kMaxBlocks];             // and which kChunk-element chunk of it
};

template <class D, int Depth, class Op>
__global__ void __launch_bounds__(kThreads) tensor_chunks_kernel(TensorChunks<Depth> a, Op op) {
  const int s = a.tensor[blockIdx.x];
  const int64_t start = int64_t(a.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[s], start + kChunk);
  D* t[Depth];
#pragma unroll
  for (int k = 0; k < Depth; ++k) t[k] = static_cast<D*>(a.ptr[k][s]);
  const auto block_op = op.for_block(t);  // per-tensor constants, once per block
  for (int64_t i = start + threadIdx.x; i < end; i += kThreads) block_op(t, i);
}

// launch(a, blocks, first_block) for the lists' tensors cut into kChunk-element chunks, one block per
// chunk, as many launches as the argument struct needs (at most kMaxTensors tensors and kMaxBlocks blocks
// each); first_block numbers the launch's first block among all of them. An empty list (a state list
// switched off) gives null pointers. Empty tensors are skipped.
template <int Depth, class Launch>
void for_each_chunk_launch(const std::array<const TensorList*, Depth>& lists, Launch launch) {
  TensorChunks<Depth> a;
  int nt = 0, nb = 0;
  int64_t first = 0;
  auto flush = [&] {
    launch(a, nb, first);
    first += nb;
    nb = 0;
  };
  const TensorList& list0 = *lists[0];
  for (size_t i = 0; i < list0.size(); ++i) {
    const int64_t n = list0[i].numel();
    if (n == 0) continue;
    int slot = nt++;
    for (int k = 0; k < Depth; ++k) a.ptr[k][slot] = lists[k]->empty() ? nullptr : (*lists[k])[i].data_ptr();
    a.n[slot] = n;
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      a.tensor[nb] = static_cast<unsigned char>(slot);
      a.chunk[nb] = static_cast<int>(c);
      ++nb;
      const bool last = c == chunks - 1;
      if (nb == kMaxBlocks || (last && nt == kMaxTensors)) {
        flush();
        if (last) {
          nt = 0;
        } else {  // the tensor goes on in the next launch, from slot 0
          for (int k = 0; k < Depth; ++k) a.ptr[k][0] = a.ptr[k][slot];
          a.n[0] = a.n[slot];
          slot = 0, nt = 1;
        }
      }
    }
  }
  if (nb > 0) flush();
}

// The number of blocks for_each_chunk_launch gives the list's tensors, over all its launches.
inline int64_t chunk_count(const TensorList& list) {
  int64_t total = 0;
  for (const Tensor& t : list) total += (t.numel() + kChunk - 1) / kChunk;
  return total;
}

// op.for_block(t)(t, i) (__device__ calls; t[k]: list k's tensor as D*; for_block gives the op of one
// block's tensor, most often op itself) for every element i of the tensors of the lists, index by index
// of equal sizes; an empty list (a state list switched off) gives
// null pointers. Empty tensors are skipped.
template <class D, int Depth, class Op>
void multi_tensor_apply(const std::array<const TensorList*, Depth>& lists, const Op& op, cudaStream_t stream) {
  static_assert(sizeof(TensorChunks<Depth>) + sizeof(Op) < 4000, "kernel arguments must fit in 4 KiB");
  for_each_chunk_launch<Depth>(lists, [&](const TensorChunks<Depth>& a, int blocks, int64_t) {
    tensor_chunks_kernel<D, Depth, Op><<<blocks, kThreads, 0, stream>>>(a, op);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace vt::cuda_kernels
