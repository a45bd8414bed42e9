#pragma once
// Device copies of the optim family's chunk tables, cached by their rows (Note [Chunk table] in
// ops/suite/chunk_table.h).
#include "ops/suite/chunk_table.h"

namespace vt::cuda_kernels {

// An int64 tensor on `device` holding t.rows: the one an earlier call uploaded when the rows are
// the same, else a new asynchronous upload (through pinned staging, no stream sync). Undefined when
// the rows are new and the calling thread is capturing a CUDA graph: an upload from the host cannot
// be captured. Thread-safe.
Tensor device_chunk_table(const suite::ChunkTable& t, Device device);

}  // namespace vt::cuda_kernels
