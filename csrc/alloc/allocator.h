#pragma once
// The CUDA device-memory allocator interface and its statistics. Three strategies implement it
// (caching.cpp, async.cpp, direct.cpp); policy alloc.cuda picks one at the first CUDA
// allocation (registry.cpp). See Note [CUDA allocators].
#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <cstdint>
#include <string>
#include <vector>

namespace vt::alloc {

// Note [CUDA allocators]
// - caching: PyTorch's design. Memory comes from cudaMalloc'ed segments and is kept after a
//   tensor dies, in free lists keyed by (stream, size): a block freed on stream S is handed out
//   again only to work on S, which is ordered after every earlier use, so no event or sync is
//   needed. A block also used on other streams (record_stream) goes back to the free lists only
//   when events recorded on those streams at free time have completed.
// - async: cudaMallocAsync/cudaFreeAsync on a dedicated pool (the driver's stream-ordered
//   allocator), release threshold "keep everything".
// - direct: cudaMalloc and cudaFree per tensor (cudaFree synchronizes the device).
// Each strategy is wrapped in TrackingAdaptor (tracking_adaptor.h), which takes the locks of
// policy alloc.lock (locks.h), keeps the live allocations and counts the work in Stats (and the
// probes counters). See Note [Allocator adaptor].

struct Stats {
  int64_t allocated = 0, reserved = 0, requested = 0;  // bytes now
  int64_t peak_allocated = 0, peak_reserved = 0, peak_requested = 0;
  int64_t allocated_total = 0, freed_total = 0;  // cumulative bytes
  int64_t active_blocks = 0, segments = 0;
  uint64_t alloc_calls = 0, free_calls = 0;
  uint64_t hits = 0, misses = 0;  // served from cached memory / needed new device memory
  uint64_t device_mallocs = 0, device_frees = 0;
  uint64_t alloc_retries = 0, ooms = 0;

  void on_alloc(int64_t size, int64_t req);
  void on_free(int64_t size, int64_t req);
  void on_reserve(int64_t bytes);  // negative: released
  void reset_peaks() { peak_allocated = allocated; peak_reserved = reserved; peak_requested = requested; }
  // Cumulative counts back to zero and peaks to the current values (reset_accumulated_memory_stats).
  void reset_counters() {
    allocated_total = freed_total = 0;
    alloc_calls = free_calls = hits = misses = device_mallocs = device_frees = alloc_retries = ooms = 0;
    reset_peaks();
  }
};

struct BlockInfo {
  uintptr_t address = 0;
  size_t size = 0, requested = 0;
  bool allocated = false;
  std::string state;  // "active_allocated", "active_pending_free" (waiting on other streams), "inactive"
};
struct SegmentInfo {
  int device = 0;
  uintptr_t address = 0;
  size_t size = 0;
  uintptr_t stream = 0;
  std::string type;  // "small" / "large" (caching), "pool" (async), "direct"
  std::vector<BlockInfo> blocks;
};

class DeviceAllocator {
 public:
  virtual ~DeviceAllocator() = default;
  virtual const char* name() const = 0;  // the alloc.cuda value

  // `bytes` (> 0) of memory on `device` for work issued on `stream`.
  virtual void* allocate(size_t bytes, int device, cudaStream_t stream) = 0;
  // Returns memory from allocate(); never throws (it runs in tensor destructors).
  virtual void free(void* ptr, int device) noexcept = 0;
  // The memory at `ptr` is also used by work on `stream`: it is reused only after that work,
  // as queued at free time, completes. Pointers not from this allocator are ignored.
  virtual void record_stream(void* ptr, int device, cudaStream_t stream) = 0;
  // Returns cached, unused memory to the device.
  virtual void empty_cache() = 0;
  virtual Stats stats(int device) = 0;
  virtual void reset_peak(int device) = 0;
  virtual void reset_counters(int device) = 0;  // cumulative counts and peaks
  virtual std::vector<SegmentInfo> snapshot() = 0;

  // CUDA graphs (Note [Graph memory pools]). Until end_capture, allocations on `stream` of
  // `device` come from private pool `pool` (created on first use; each begin_capture takes a
  // reference that release_pool gives back). Strategies without private pools raise.
  virtual void begin_capture(int device, uint64_t pool, cudaStream_t stream);
  virtual void end_capture(int device, uint64_t pool) {}
  virtual void release_pool(int device, uint64_t pool) {}
};

// Note [Graph memory pools]
// A captured graph replays with the addresses it was captured with, so memory allocated during
// capture must stay the graph's: the caching allocator serves the capturing stream from a
// private pool whose blocks are never handed to eager allocations. Blocks freed during capture
// go back to that pool and may be reused later in the same capture (the replay runs in the
// same stream order, so this is safe, as in PyTorch); blocks of tensors still alive after
// capture are the graph's static outputs. When the last graph using a pool is reset, its free
// segments are released (cudaFree) and segments still holding live tensors join the ordinary
// cache, so their memory returns there when those tensors die. While a capture is underway
// on a device, the allocator issues no event queries or records there (they are not allowed
// during capture): frees that need them wait until the capture ends.
// alloc.cuda=async and direct refuse capture with a clear error: direct's cudaFree cannot run
// during capture, and async's pool would give no private-pool guarantee; use caching.

// The allocator of policy alloc.cuda, created (and the policy fixed) at the first call.
DeviceAllocator& cuda_allocator();
// nullptr when no CUDA memory was allocated yet (statistics then read as zero).
DeviceAllocator* cuda_allocator_if_created();

std::unique_ptr<DeviceAllocator> make_caching_allocator();
std::unique_ptr<DeviceAllocator> make_async_allocator();
std::unique_ptr<DeviceAllocator> make_direct_allocator();

// "2.00 GiB" style sizes for messages.
std::string format_bytes(int64_t bytes);
// The out-of-memory error every strategy raises (vt::Error, RuntimeError in Python).
[[noreturn]] void throw_oom(const char* strategy, size_t requested, int device, const Stats& s, cudaError_t err);

}  // namespace vt::alloc
