// See chunk_table_upload.h.
#include "ops/cuda/chunk_table_upload.h"

#include <cstring>
#include <iterator>
#include <list>
#include <mutex>

#include "cuda/capture_state.h"
#include "ops/ops.h"

namespace vt::cuda_kernels {
namespace {

// One entry per parameter bucket of the process's optimizers (usually one or two); a bucket whose
// gradients move between steps makes a new entry each step, and the least recently used goes, except
// tables that a captured graph reads (its replays launch on the address without coming here): those stay.
// An evicted table returns to the caching allocator, which reuses it only after the work already
// queued on its stream, so a step still reading it is safe.
constexpr size_t kEntries = 16;

struct Entry {
  Device device;
  std::vector<int64_t> rows;
  Tensor table;
  bool captured = false;  // read by a captured graph, whose replays never come here: never evicted
};

struct Cache {
  std::mutex mutex;
  std::list<Entry> entries;  // most recently used first
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: its tensors must not outlive the allocator at exit
  return *c;
}

}  // namespace

Tensor device_chunk_table(const suite::ChunkTable& t, Device device) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto it = c.entries.begin(); it != c.entries.end(); ++it) {
    if (it->device == device && it->rows == t.rows) {
      c.entries.splice(c.entries.begin(), c.entries, it);
      c.entries.front().captured |= cuda::thread_is_capturing();
      return c.entries.front().table;
    }
  }
  if (cuda::thread_is_capturing()) return Tensor();
  const DimVector size{int64_t(t.rows.size())};
  Tensor host = empty_tensor(size, DType::Int64, Device{});
  std::memcpy(host.data_ptr(), t.rows.data(), t.rows.size() * sizeof(int64_t));
  Tensor table = empty_tensor(size, DType::Int64, device);
  ops::copy_(table, host, /*non_blocking=*/true);
  c.entries.push_front({device, t.rows, table});
  size_t uncaptured = 0;
  for (const Entry& e : c.entries) uncaptured += !e.captured;
  if (uncaptured > kEntries) {  // evict the least recently used entry that no graph reads
    for (auto it = std::prev(c.entries.end());; --it)
      if (!it->captured) {
        c.entries.erase(it);
        break;
      }
  }
  return table;
}

}  // namespace vt::cuda_kernels
