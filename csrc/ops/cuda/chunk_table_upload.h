#pragma once
// Device copies of the optim family's chunk tables, cached by their rows (Note [Chunk table] in
// ops/suite/chunk_table.h).
#include "cuda/device.h"
#include "ops/suite/chunk_table.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {

// An int64 tensor on `device` holding t.rows: the one an earlier call uploaded when the rows are
// the same, else a new asynchronous upload (through pinned staging, no stream sync). Undefined when
// the rows are new and the calling thread is capturing a CUDA graph: an upload from the host cannot
// be captured. Thread-safe.
Tensor device_chunk_table(const suite::ChunkTable& t, Device device);

// The suite's optim family when kernels.backend selects it (Note [Chunk table] in ops/suite/chunk_table.h):
// launch(table, t) with the lists' chunk table on their device, the multi-tensor optimizer steps' and the
// gradient clipping's. False: the caller runs its native kernels (a fallback is recorded when the suite was
// asked). Lists without elements launch nothing and give true.
template <class Run>
bool suite_multi_tensor(const std::vector<const TensorList*>& lists, Run launch) {
  const Tensor& like = lists.front()->front();
  if (!suite::optim_accepts(like)) return false;
  suite::ChunkTable t = suite::chunk_table(lists);
  if (t.n_rows == 0) return true;  // tensors without elements
  cuda::DeviceGuard guard(like.device().index);
  Tensor table = device_chunk_table(t, like.device());
  if (!table.defined()) {
    suite::fallback("optim", "a parameter or gradient set first seen under graph capture (its chunk table upload cannot be captured)");
    return false;
  }
  return launch(table, t);
}

}  // namespace vt::cuda_kernels
