#pragma once
// Device state of the allocators that hold one device block per live allocation (async, direct):
// the live allocations, the statistics and their lock-guarded accessors, and the snapshot.
#include <algorithm>
#include <unordered_map>
#include <vector>

#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "alloc/per_device.h"
#include "cuda/device.h"
#include "probes/instrumented_mutex.h"

namespace vt::alloc {

// Alloc: the record of one live allocation, with at least size, requested and stream.
template <class Alloc>
struct PerAllocationDevice {
  PerAllocationDevice() : mutex("alloc.device") {}
  probes::InstrumentedMutex mutex;
  std::unordered_map<void*, Alloc> active;
  Stats stats;

  // Statistics under the allocator's locks (Note [Allocator locks]).
  Stats locked_stats() {
    AllocLock lock(mutex);
    MetadataLock m(lock);
    return stats;
  }
  template <class F> void update_stats(F f) {
    AllocLock lock(mutex);
    MetadataLock m(lock);
    f(stats);
  }
};

// Every live allocation of every used device as a segment of its own, type `type`, in address order.
template <class D>
std::vector<SegmentInfo> snapshot_allocations(const PerDevice<D>& devs, const char* type) {
  std::vector<SegmentInfo> out;
  for (int d = 0; d < cuda::kMaxDevices; ++d) {
    D* dd = devs.find(d);
    if (!dd) continue;
    AllocLock lock(dd->mutex);
    for (auto& [p, a] : dd->active) {
      SegmentInfo si;
      si.device = d;
      si.address = uintptr_t(p);
      si.size = a.size;
      si.stream = uintptr_t(a.stream);
      si.type = type;
      si.blocks.push_back(BlockInfo{uintptr_t(p), a.size, a.requested, true, "active_allocated"});
      out.push_back(std::move(si));
    }
  }
  std::sort(out.begin(), out.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    return a.device != b.device ? a.device < b.device : a.address < b.address;
  });
  return out;
}

}  // namespace vt::alloc
