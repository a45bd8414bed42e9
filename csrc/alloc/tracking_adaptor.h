#pragma once
// The bookkeeping every CUDA allocator strategy shares, as one adaptor around the strategy: the
// locks of alloc.lock, the live allocations, the statistics. See Note [Allocator adaptor].
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "alloc/per_device.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "probes/scope.h"

namespace vt::alloc {

// Note [Allocator adaptor]
// As RMM wraps a memory resource in statistics_resource_adaptor and thread_safe_resource_adaptor,
// TrackingAdaptor<Strategy> wraps a strategy (caching.cpp, async.cpp, direct.cpp), which says only
// how device memory is obtained, reused and given back, into a DeviceAllocator that does the rest
// the same way for every strategy:
// - locking: every call on a device holds its AllocLock (Note [Allocator locks]); the statistics
//   and the live allocations change only under a MetadataLock;
// - tracking: the live allocations by address (freeing an unknown pointer is reported and ignored,
//   record_stream of one is ignored), with the streams that used each (record_stream);
// - statistics: calls, hits/misses, allocated and requested bytes; the strategy adds what only it
//   knows (device mallocs, reserved bytes, segments, retries, ooms) under the same locks;
// - stats, resets, snapshot and empty_cache over the devices in use.
// A strategy provides:
//   static constexpr const char* kName;  // the alloc.cuda value
//   static constexpr bool kOrdersStreamUses;  // record_stream matters (else it is ignored)
//   using Record = ...;  // one live allocation: .size, .requested, .stream, .stream_uses (or a pointer to one)
//   struct Device : TrackedDevice<Record> { using TrackedDevice<Record>::TrackedDevice; ... };
//   using Outcome = Served<Record>;  // or derived from it, to pass more to on_allocated
//   Outcome allocate(Device&, const AllocLock&, size_t bytes, cudaStream_t);
//   void release(Device&, const AllocLock&, void* ptr, Record&);  // after the record left the map
//   void snapshot(const Device&, std::vector<SegmentInfo>& out);
// and where it needs them (see the concepts below): on_allocated / on_freed (statistics under the
// metadata lock, after the map changed), empty_cache, and the graph-capture calls.

// The live allocations of one device, their statistics and the device's mutex (probe name
// "alloc.device"). Strategies derive their per-device state from it.
template <class Record>
struct TrackedDevice {
  explicit TrackedDevice(int d) : device(d), mutex("alloc.device") {}
  const int device;
  probes::InstrumentedMutex mutex;
  std::unordered_map<void*, Record> active;
  Stats stats;

  // The result of a device allocation call (cudaMalloc, cudaMallocFromPoolAsync) for `bytes`, made
  // under `lock`: out of memory raises the out-of-memory error of `strategy` (counted in ooms), any
  // other failure its CUDA error.
  void check_device_malloc(cudaError_t err, const AllocLock& lock, const char* strategy, size_t bytes) {
    if (err == cudaSuccess) return;
    cudaGetLastError();
    if (err == cudaErrorMemoryAllocation) {
      Stats s;
      {
        MetadataLock m(lock);
        stats.ooms++;
        s = stats;
      }
      throw_oom(strategy, bytes, device, s, err);
    }
    VT_CUDA_CHECK(err);
  }
};

// What a strategy's allocate returns.
template <class Record>
struct Served {
  void* ptr;
  Record record;
  bool hit;  // served from memory the strategy already held; else a miss
};

template <class S>
concept AccountsAllocations = requires(S& s, typename S::Device& d, const typename S::Outcome& o) {
  s.on_allocated(d, o);
};
template <class S>
concept AccountsFrees = requires(S& s, typename S::Device& d) { s.on_freed(d); };
template <class S>
concept EmptiesCache = requires(S& s, typename S::Device& d, const AllocLock& l) { s.empty_cache(d, l); };
template <class S>
concept CapturesGraphs = requires(S& s, typename S::Device& d, const AllocLock& l) {
  s.begin_capture(d, l, uint64_t{}, cudaStream_t{});
  s.end_capture(d, l, uint64_t{});
  s.release_pool(d, l, uint64_t{});
};

namespace detail {
// A record held by value (async, direct) or as a pointer to the strategy's block (caching).
template <class R> auto& fields(R& r) {
  if constexpr (std::is_pointer_v<R>) return *r;
  else return r;
}
}  // namespace detail

template <class Strategy>
class TrackingAdaptor final : public DeviceAllocator {
  using Device = typename Strategy::Device;
  using Record = typename Strategy::Record;

 public:
  const char* name() const override { return Strategy::kName; }

  void* allocate(size_t bytes, int device, cudaStream_t stream) override {
    VT_PROBE_SCOPE(alloc, fine, "cuda_alloc");  // Note [NVTX ranges]
    Device& d = dev(device);
    AllocLock lock(d.mutex);
    probes::count(probes::Counter::alloc_calls);
    cuda::DeviceGuard g(device);
    typename Strategy::Outcome served = strategy_.allocate(d, lock, bytes, stream);
    {
      MetadataLock m(lock);
      const Record& r = d.active.emplace(served.ptr, served.record).first->second;
      d.stats.alloc_calls++;
      if (served.hit) d.stats.hits++;
      else d.stats.misses++;
      d.stats.on_alloc(int64_t(detail::fields(r).size), int64_t(bytes));
      if constexpr (AccountsAllocations<Strategy>) strategy_.on_allocated(d, served);
    }
    probes::count(served.hit ? probes::Counter::alloc_hits : probes::Counter::alloc_misses);
    return served.ptr;
  }

  void free(void* ptr, int device) noexcept override {
    try {
      VT_PROBE_SCOPE(alloc, fine, "cuda_free");
      Device& d = dev(device);
      AllocLock lock(d.mutex);
      Record r;
      {
        MetadataLock m(lock);
        auto it = d.active.find(ptr);
        if (it == d.active.end()) {
          std::fprintf(stderr, "vibetensor: %s allocator: free of unknown pointer %p on cuda:%d ignored\n",
                       Strategy::kName, ptr, device);
          return;
        }
        r = std::move(it->second);
        d.active.erase(it);
        d.stats.free_calls++;
        d.stats.on_free(int64_t(detail::fields(r).size), int64_t(detail::fields(r).requested));
        if constexpr (AccountsFrees<Strategy>) strategy_.on_freed(d);
      }
      strategy_.release(d, lock, ptr, r);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vibetensor: %s allocator: error while freeing CUDA memory: %s\n", Strategy::kName,
                   e.what());
    }
  }

  void record_stream(void* ptr, int device, cudaStream_t stream) override {
    if constexpr (Strategy::kOrdersStreamUses) {
      Device& d = dev(device);
      AllocLock lock(d.mutex);
      MetadataLock m(lock);
      auto it = d.active.find(ptr);
      if (it == d.active.end()) return;  // not ours (e.g. memory imported by DLPack)
      auto& a = detail::fields(it->second);
      if (a.stream == stream) return;
      for (cudaStream_t s : a.stream_uses)
        if (s == stream) return;
      a.stream_uses.push_back(stream);
    }
  }

  void empty_cache() override {
    if constexpr (EmptiesCache<Strategy>)
      for_each_device_in_use([&](Device& d, const AllocLock& lock) { strategy_.empty_cache(d, lock); });
  }

  Stats stats(int device) override { return with_stats(device, [](Stats& s) { return s; }); }
  void reset_peak(int device) override { with_stats(device, [](Stats& s) { s.reset_peaks(); }); }
  void reset_counters(int device) override { with_stats(device, [](Stats& s) { s.reset_counters(); }); }

  std::vector<SegmentInfo> snapshot() override {
    std::vector<SegmentInfo> out;
    for_each_device_in_use([&](Device& d, const AllocLock&) { strategy_.snapshot(d, out); });
    std::sort(out.begin(), out.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
      return a.device != b.device ? a.device < b.device : a.address < b.address;
    });
    return out;
  }

  void begin_capture(int device, uint64_t pool, cudaStream_t stream) override {
    if constexpr (CapturesGraphs<Strategy>)
      with_device(device, [&](Device& d, const AllocLock& lock) { strategy_.begin_capture(d, lock, pool, stream); });
    else
      DeviceAllocator::begin_capture(device, pool, stream);  // raises
  }
  void end_capture(int device, uint64_t pool) override {
    if constexpr (CapturesGraphs<Strategy>)
      with_device(device, [&](Device& d, const AllocLock& lock) { strategy_.end_capture(d, lock, pool); });
  }
  void release_pool(int device, uint64_t pool) override {
    if constexpr (CapturesGraphs<Strategy>)
      with_device(device, [&](Device& d, const AllocLock& lock) { strategy_.release_pool(d, lock, pool); });
  }

 private:
  Device& dev(int device) { return devs_.get(device, who_.c_str()); }

  // f(device state, its lock) with the device's AllocLock held.
  template <class F> void with_device(int device, F f) {
    Device& d = dev(device);
    AllocLock lock(d.mutex);
    f(d, lock);
  }
  // The same for every device used so far, in index order.
  template <class F> void for_each_device_in_use(F f) {
    for (int i = 0; i < cuda::kMaxDevices; ++i) {
      Device* d = devs_.find(i);
      if (!d) continue;
      AllocLock lock(d->mutex);
      f(*d, lock);
    }
  }
  // f(statistics of `device`) under its AllocLock and MetadataLock.
  template <class F> auto with_stats(int device, F f) {
    Device& d = dev(device);
    AllocLock lock(d.mutex);
    MetadataLock m(lock);
    return f(d.stats);
  }

  Strategy strategy_;
  const std::string who_ = std::string(Strategy::kName) + " allocator";  // names it in device-index errors
  PerDevice<Device> devs_;
};

}  // namespace vt::alloc
