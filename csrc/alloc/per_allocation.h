#pragma once
// The snapshot of the strategies that hold one device block per live allocation (async, direct).
#include <vector>

#include "alloc/allocator.h"
#include "alloc/tracking_adaptor.h"

namespace vt::alloc {

// Every live allocation of `d` as a segment of its own, of type `type`.
template <class Record>
void append_allocation_segments(const TrackedDevice<Record>& d, const char* type, std::vector<SegmentInfo>& out) {
  for (auto& [p, a] : d.active) {
    SegmentInfo si;
    si.device = d.device;
    si.address = uintptr_t(p);
    si.size = a.size;
    si.stream = uintptr_t(a.stream);
    si.type = type;
    si.blocks.push_back(BlockInfo{uintptr_t(p), a.size, a.requested, true, "active_allocated"});
    out.push_back(std::move(si));
  }
}

}  // namespace vt::alloc
