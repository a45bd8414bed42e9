// The caching allocator (alloc.cuda=caching): stream-ordered free lists over cudaMalloc'ed
// segments, with block splitting and coalescing. See Note [CUDA allocators] in allocator.h and
// Note [Caching allocator] below; the bookkeeping is TrackingAdaptor's (Note [Allocator adaptor]).
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <unordered_set>

#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "alloc/tracking_adaptor.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/sync_ledger.h"
#include "probes/counters.h"

namespace vt::alloc {
namespace {

// Note [Caching allocator]
// Requests are rounded up to 512 B. Requests up to 1 MiB come from the small pool, whose
// segments are 2 MiB; larger ones from the large pool, whose segments are 20 MiB for requests
// under 10 MiB and the request rounded up to 2 MiB otherwise (PyTorch's sizes; keeping small
// blocks apart stops them from fragmenting large segments). alloc.segments=per_request makes
// every new segment exactly the rounded request.
// A free block is found by best fit among blocks of the same stream (Note [CUDA allocators]).
// With alloc.split=on a larger block is split and the rest goes back to the free list (small
// pool: if at least 512 B remain; large pool: if more than 1 MiB remain); with alloc.split=off
// the block is handed out whole. A freed block merges with free neighbours of its segment.
// Out of memory: free every cached segment that is wholly unused and retry once.
constexpr size_t kMinBlockSize = 512;
constexpr size_t kSmallSize = size_t(1) << 20;
constexpr size_t kSmallBuffer = size_t(2) << 20;
constexpr size_t kMinLargeAlloc = size_t(10) << 20;
constexpr size_t kLargeBuffer = size_t(20) << 20;
constexpr size_t kRoundLarge = size_t(2) << 20;

enum class BlockState : uint8_t { Free, Allocated, PendingFree };

struct Segment;
struct Block {
  char* ptr = nullptr;
  size_t size = 0;
  size_t requested = 0;
  cudaStream_t stream = nullptr;
  Segment* segment = nullptr;
  Block* prev = nullptr;  // neighbours within the segment
  Block* next = nullptr;
  BlockState state = BlockState::Free;
  int pending_events = 0;
  std::vector<cudaStream_t> stream_uses;  // other streams that used it (record_stream)
};

struct Segment {
  char* ptr;
  size_t size;
  cudaStream_t stream;
  bool small;
  Block* head;  // the block at ptr
  uint64_t pool = 0;  // the CUDA graph pool it belongs to; 0: the ordinary cache
};

struct BlockLess {
  bool operator()(const Block* a, const Block* b) const {
    if (a->stream != b->stream) return uintptr_t(a->stream) < uintptr_t(b->stream);
    if (a->size != b->size) return a->size < b->size;
    return uintptr_t(a->ptr) < uintptr_t(b->ptr);
  }
};
using Pool = std::set<Block*, BlockLess>;

struct DeviceCache : TrackedDevice<Block*> {
  using TrackedDevice<Block*>::TrackedDevice;
  Pool small, large;
  std::deque<std::pair<cudaEvent_t, Block*>> pending;  // events of blocks freed while used elsewhere
  std::vector<cudaEvent_t> spare_events;
  std::unordered_set<Segment*> segments;
  // CUDA graphs (Note [Graph memory pools]).
  struct PrivatePool {
    Pool small, large;
    int users = 0;  // graphs (captures begun) that hold it
  };
  std::map<uint64_t, PrivatePool> pools;
  std::vector<std::pair<cudaStream_t, uint64_t>> captures;  // streams being captured, and their pool
  std::vector<Block*> deferred;  // freed during capture while used on other streams
};

size_t round_size(size_t bytes) {
  return bytes < kMinBlockSize ? kMinBlockSize : (bytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

class CachingStrategy {
 public:
  static constexpr const char* kName = "caching";
  static constexpr bool kOrdersStreamUses = true;
  using Record = Block*;
  using Outcome = Served<Record>;
  using Device = DeviceCache;

  CachingStrategy()
      : split_(policy::alloc_split.get() == policy::AllocSplit::on),
        per_request_(policy::alloc_segments.get() == policy::AllocSegments::per_request) {}

  Outcome allocate(DeviceCache& dc, const AllocLock& lock, size_t bytes, cudaStream_t stream) {
    if (dc.captures.empty()) process_events(dc);  // no event queries during capture
    size_t size = round_size(bytes);
    bool small = size <= kSmallSize;
    uint64_t pool_id = capture_pool(dc, stream);
    Pool& pool = pool_of(dc, pool_id, small);
    Block* b = take_free(pool, stream, size);
    bool hit = b != nullptr;
    if (!b) b = new_segment(dc, lock, stream, size, small, bytes, pool_id);
    if (split_ && should_split(b, size, small)) split(pool, b, size);
    b->state = BlockState::Allocated;
    b->requested = bytes;
    return {b->ptr, b, hit};
  }

  void release(DeviceCache& dc, const AllocLock&, void*, Block* b) {
    if (b->stream_uses.empty()) {
      release_block(dc, b);
      return;
    }
    if (!dc.captures.empty()) {  // no event records during capture: after it ends
      b->state = BlockState::PendingFree;
      dc.deferred.push_back(b);
      return;
    }
    free_used_elsewhere(dc, b);
  }

  void begin_capture(DeviceCache& dc, const AllocLock&, uint64_t pool, cudaStream_t stream) {
    dc.pools[pool].users++;
    dc.captures.emplace_back(stream, pool);
  }

  void end_capture(DeviceCache& dc, const AllocLock&, uint64_t pool) {
    for (auto it = dc.captures.begin(); it != dc.captures.end(); ++it) {
      if (it->second == pool) {
        dc.captures.erase(it);
        break;
      }
    }
    if (!dc.captures.empty()) return;
    std::vector<Block*> deferred;
    deferred.swap(dc.deferred);
    for (Block* b : deferred) free_used_elsewhere(dc, b);
  }

  void release_pool(DeviceCache& dc, const AllocLock& lock, uint64_t pool) {
    auto it = dc.pools.find(pool);
    if (it == dc.pools.end() || --it->second.users > 0) return;
    cuda::DeviceGuard g(dc.device);
    DeviceCache::PrivatePool& pp = it->second;
    std::vector<Segment*> owned;
    for (Segment* s : dc.segments)
      if (s->pool == pool) owned.push_back(s);
    for (Segment* s : owned) {
      Pool& from = s->small ? pp.small : pp.large;
      s->pool = 0;
      if (s->head->state == BlockState::Free && !s->head->next) {
        from.erase(s->head);
        free_segment(dc, lock, s->head);
        continue;
      }
      // Tensors allocated during capture are still alive: the segment joins the ordinary cache.
      Pool& to = s->small ? dc.small : dc.large;
      for (Block* b = s->head; b; b = b->next) {
        if (b->state != BlockState::Free) continue;
        from.erase(b);
        to.insert(b);
      }
    }
    dc.pools.erase(it);
  }

  void empty_cache(DeviceCache& dc, const AllocLock& lock) {
    cuda::DeviceGuard g(dc.device);
    release_cached(dc, lock);
  }

  void snapshot(const DeviceCache& dc, std::vector<SegmentInfo>& out) {
    for (Segment* s : dc.segments) {
      SegmentInfo si;
      si.device = dc.device;
      si.address = uintptr_t(s->ptr);
      si.size = s->size;
      si.stream = uintptr_t(s->stream);
      si.type = s->small ? "small" : "large";
      for (Block* b = s->head; b; b = b->next) {
        BlockInfo bi;
        bi.address = uintptr_t(b->ptr);
        bi.size = b->size;
        bi.requested = b->requested;
        bi.allocated = b->state == BlockState::Allocated;
        bi.state = b->state == BlockState::Allocated ? "active_allocated"
                   : b->state == BlockState::PendingFree ? "active_pending_free" : "inactive";
        si.blocks.push_back(bi);
      }
      out.push_back(std::move(si));
    }
  }

 private:
  // Blocks freed while used on other streams: reusable once the work queued there so far has
  // completed (events recorded now).
  void free_used_elsewhere(DeviceCache& dc, Block* b) noexcept {
    int device = dc.device;
    try {
      int cur = -1;
      if (cudaGetDevice(&cur) != cudaSuccess) return;  // runtime shutting down: leak
      if (cur != device) cudaSetDevice(device);
      b->state = BlockState::PendingFree;
      bool failed = false;
      for (cudaStream_t s : b->stream_uses) {
        cudaEvent_t ev = take_event(dc);
        if (!ev || cudaEventRecord(ev, s) != cudaSuccess) {
          cudaGetLastError();
          if (ev) dc.spare_events.push_back(ev);
          failed = true;
          continue;
        }
        dc.pending.emplace_back(ev, b);
        b->pending_events++;
      }
      b->stream_uses.clear();
      if (b->pending_events == 0) {
        // No event could order the reuse: wait for the device instead, or keep the block out of
        // the pool for good if even that fails (the runtime is shutting down).
        bool idle = !failed;
        if (failed) {
          cuda::HostSync host_sync("allocator_free_fallback_synchronize");
          idle = cudaDeviceSynchronize() == cudaSuccess;
          cudaGetLastError();
        }
        if (idle) release_block(dc, b);
      }
      if (cur != device) cudaSetDevice(cur);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vibetensor: caching allocator: error while freeing CUDA memory: %s\n", e.what());
    }
  }

  size_t segment_size(size_t size, bool small) const {
    if (per_request_) return size;
    if (small) return kSmallBuffer;
    if (size < kMinLargeAlloc) return kLargeBuffer;
    return (size + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
  }

  static bool should_split(const Block* b, size_t size, bool small) {
    size_t rest = b->size - size;
    return small ? rest >= kMinBlockSize : rest > kSmallSize;
  }

  static Block* take_free(Pool& pool, cudaStream_t stream, size_t size) {
    Block key;
    key.stream = stream;
    key.size = size;
    key.ptr = nullptr;
    auto it = pool.lower_bound(&key);
    if (it == pool.end() || (*it)->stream != stream) return nullptr;
    Block* b = *it;
    pool.erase(it);
    return b;
  }

  static void split(Pool& pool, Block* b, size_t size) {
    Block* rest = new Block();
    rest->ptr = b->ptr + size;
    rest->size = b->size - size;
    rest->stream = b->stream;
    rest->segment = b->segment;
    rest->prev = b;
    rest->next = b->next;
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    pool.insert(rest);
  }

  // The pool of the graph capturing `stream`, or 0.
  static uint64_t capture_pool(const DeviceCache& dc, cudaStream_t stream) {
    for (const auto& [s, pool] : dc.captures)
      if (s == stream) return pool;
    return 0;
  }

  static Pool& pool_of(DeviceCache& dc, uint64_t pool, bool small) {
    if (pool == 0) return small ? dc.small : dc.large;
    DeviceCache::PrivatePool& pp = dc.pools.at(pool);
    return small ? pp.small : pp.large;
  }

  Block* new_segment(DeviceCache& dc, const AllocLock& lock, cudaStream_t stream, size_t size, bool small, size_t bytes,
                     uint64_t pool) {
    VT_PROBE_SCOPE(alloc, coarse, "cudaMalloc");  // the cache grows: Note [NVTX ranges]
    size_t seg = segment_size(size, small);
    void* p = nullptr;
    // cudaMalloc counts as unsafe while this thread captures a graph: allow it in relaxed mode,
    // as the memory is not used by the capture before it exists (torch's allocator does the same).
    const bool capturing = !dc.captures.empty();
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    if (capturing) cudaThreadExchangeStreamCaptureMode(&mode);
    cudaError_t err = cudaMalloc(&p, seg);
    if (capturing) cudaThreadExchangeStreamCaptureMode(&mode);
    if (err == cudaErrorMemoryAllocation && !capturing) {  // no cudaFree during capture
      cudaGetLastError();
      release_cached(dc, lock);
      {
        MetadataLock m(lock);
        dc.stats.alloc_retries++;
      }
      err = cudaMalloc(&p, seg);
    }
    dc.check_device_malloc(err, lock, kName, bytes);
    probes::count(probes::Counter::device_malloc_calls);
    auto* s = new Segment{static_cast<char*>(p), seg, stream, small, nullptr, pool};
    Block* b = new Block();
    b->ptr = s->ptr;
    b->size = seg;
    b->stream = stream;
    b->segment = s;
    s->head = b;
    dc.segments.insert(s);
    MetadataLock m(lock);
    dc.stats.device_mallocs++;
    dc.stats.segments++;
    dc.stats.on_reserve(int64_t(seg));
    return b;
  }

  // b (not in a pool) becomes free: merged with free neighbours, then put in its pool.
  void release_block(DeviceCache& dc, Block* b) {
    Pool& pool = pool_of(dc, b->segment->pool, b->segment->small);
    b->state = BlockState::Free;
    b->requested = 0;
    merge(pool, b, b->prev);
    merge(pool, b, b->next);
    pool.insert(b);
  }

  static void merge(Pool& pool, Block* b, Block* other) {
    if (!other || other->state != BlockState::Free) return;
    pool.erase(other);
    if (other == b->prev) {
      b->ptr = other->ptr;
      b->prev = other->prev;
      if (b->prev) b->prev->next = b;
      else b->segment->head = b;
    } else {
      b->next = other->next;
      if (b->next) b->next->prev = b;
    }
    b->size += other->size;
    delete other;
  }

  cudaEvent_t take_event(DeviceCache& dc) {
    if (!dc.spare_events.empty()) {
      cudaEvent_t ev = dc.spare_events.back();
      dc.spare_events.pop_back();
      return ev;
    }
    cudaEvent_t ev = nullptr;
    if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    return ev;
  }

  // Blocks whose recorded events completed go back to the free lists (in record order).
  void process_events(DeviceCache& dc) {
    while (!dc.pending.empty()) {
      auto [ev, b] = dc.pending.front();
      cudaError_t err = cudaEventQuery(ev);
      if (err == cudaErrorNotReady) {
        cudaGetLastError();
        break;
      }
      VT_CUDA_CHECK(err);
      dc.pending.pop_front();
      dc.spare_events.push_back(ev);
      if (--b->pending_events == 0) release_block(dc, b);
    }
  }

  // Empty cache / out of memory: wait for pending blocks, then free every wholly unused segment.
  void release_cached(DeviceCache& dc, const AllocLock& lock) {
    while (!dc.pending.empty()) {
      auto [ev, b] = dc.pending.front();
      cuda::HostSync host_sync("allocator_event_synchronize");
      VT_CUDA_CHECK(cudaEventSynchronize(ev));
      dc.pending.pop_front();
      dc.spare_events.push_back(ev);
      if (--b->pending_events == 0) release_block(dc, b);
    }
    for (Pool* pool : {&dc.small, &dc.large}) {
      for (auto it = pool->begin(); it != pool->end();) {
        Block* b = *it;
        if (b->prev || b->next) { ++it; continue; }
        it = pool->erase(it);
        free_segment(dc, lock, b);
      }
    }
  }

  // b is the whole (free, unpooled) block of its segment: give the segment back to the device.
  void free_segment(DeviceCache& dc, const AllocLock& lock, Block* b) {
    Segment* s = b->segment;
    cuda::HostSync host_sync("cudaFree");  // cudaFree waits for the device
    VT_CUDA_CHECK(cudaFree(s->ptr));
    probes::count(probes::Counter::device_free_calls);
    {
      MetadataLock m(lock);
      dc.stats.device_frees++;
      dc.stats.segments--;
      dc.stats.on_reserve(-int64_t(s->size));
    }
    dc.segments.erase(s);
    delete s;
    delete b;
  }

  const bool split_;
  const bool per_request_;
};

}  // namespace

std::unique_ptr<DeviceAllocator> make_caching_allocator() { return std::make_unique<TrackingAdaptor<CachingStrategy>>(); }

}  // namespace vt::alloc
