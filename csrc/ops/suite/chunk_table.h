#pragma once
// The chunk table of the suite's multi-tensor optimizer kernels (kernels/triton/optim.py).
// See Note [Chunk table].
#include <cstdint>
#include <vector>

#include "dispatch/ivalue.h"

namespace vt::suite {

// Note [Chunk table]
// A Triton kernel takes no array of pointers in its arguments, as the native multi-tensor kernels
// do (ops/cuda/multi_tensor_apply.cuh, up to 4 KiB of parameters), so the optim family reads its
// operands from a table in device memory: one row per chunk of at most kOptimChunk elements of one
// parameter, [t0, t1, t2, t3, t4, n], ti the address of list i's tensor at the chunk's first element
// (0 for a list the step leaves out) and n the chunk's element count; program i updates row i.
// Rows depend only on the tensors' addresses and sizes, which a training loop keeps from step to
// step (the parameters and their state never move; gradients come back at the same addresses from
// the caching allocator, and are static under graph capture), so the device copy is cached by its
// rows (ops/cuda/chunk_table_upload.h) and a step uploads nothing after the first: one launch, as
// torch's fused AdamW. Rows start at multiples of kOptimChunk elements, so a tensor that is 16-byte
// aligned gives 16-byte aligned rows; `aligned` says every address is, and the kernel then uses
// vector accesses on full chunks (its ALIGNED constexpr).

constexpr int kChunkRowSlots = 6;
constexpr int kChunkLists = 5;
constexpr int64_t kOptimChunk = 16384;  // kernels/triton/optim.py: config_adam_multi, config_sgd_multi

struct ChunkTable {
  std::vector<int64_t> rows;  // kChunkRowSlots values per row
  int64_t n_rows = 0;
  bool aligned = true;
};

// The rows for up to kChunkLists lists of contiguous tensors (params first, the others as long as it
// or empty), `chunk` elements per row; parameters without elements give no row.
ChunkTable chunk_table(const std::vector<const TensorList*>& lists, int64_t chunk = kOptimChunk);

}  // namespace vt::suite
