#pragma once
// Page-locked (pinned) host memory: the source or destination of copies that do not block the
// host (non_blocking=True). See Note [Pinned memory].
#include <cstddef>
#include <cstdint>

#include "core/storage.h"
#include "cuda/stream.h"

namespace vt::alloc {

// Note [Pinned memory]
// cudaMemcpyAsync from or to pageable memory is synchronous; from pinned memory the DMA engine
// runs while the host continues. cudaHostAlloc is slow (it maps pages for the device), so blocks
// are cached by size (powers of two). A block that a copy in flight still reads or writes is
// recorded on the copy's stream (pinned_record_stream) and reused only after an event recorded
// there at free time completes: a staging buffer is thus reused in stream order, never while the
// DMA engine reads it.

void* pinned_allocate(size_t bytes);
void pinned_free(void* ptr) noexcept;
// ptr (any address inside a pinned block) is used by work queued on `s` so far.
void pinned_record_stream(const void* ptr, const cuda::Stream& s);
// Whether ptr is page-locked: inside one of our blocks, or registered/allocated by CUDA elsewhere.
bool is_pinned(const void* ptr);
// A CPU storage in pinned memory (its deleter returns the block to the cache).
Storage pinned_storage(size_t nbytes);
void pinned_empty_cache();

struct PinnedStats {
  int64_t allocated = 0, reserved = 0;
  uint64_t host_allocs = 0, host_frees = 0, hits = 0;
};
PinnedStats pinned_stats();

}  // namespace vt::alloc
