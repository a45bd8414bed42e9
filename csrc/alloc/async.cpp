// The stream-ordered driver allocator (alloc.cuda=async): cudaMallocFromPoolAsync and
// cudaFreeAsync on a pool per device. See Note [CUDA allocators] and Note [Async allocator].
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "alloc/allocator.h"
#include "alloc/per_allocation.h"
#include "alloc/per_device.h"
#include "alloc/locks.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/sync_ledger.h"
#include "probes/counters.h"

namespace vt::alloc {
namespace {

// Note [Async allocator]
// Each device gets its own pool (not the device's default pool, which other libraries in the
// process may share) whose release threshold is "keep everything": freed memory stays in the
// pool for later requests until empty_cache() trims it. The driver reuses memory in stream
// order; memory used on other streams (record_stream) is freed on its own stream after that
// stream waits for events recorded on the others. Statistics: num_device_alloc/free count
// cudaMallocFromPoolAsync/cudaFreeAsync calls; an allocation that grew the pool's reserved
// memory counts as a miss, one served from memory the pool already held as a hit.
struct AsyncAlloc {
  size_t size, requested;
  cudaStream_t stream;
  std::vector<cudaStream_t> uses;  // other streams that used it (record_stream)
};
struct AsyncDevice : PerAllocationDevice<AsyncAlloc> {
  explicit AsyncDevice(int /*device*/) {}
  cudaMemPool_t pool = nullptr;
};

int64_t pool_reserved(cudaMemPool_t pool) {
  uint64_t v = 0;
  VT_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &v));
  return int64_t(v);
}

class AsyncAllocator final : public DeviceAllocator {
 public:
  const char* name() const override { return "async"; }

  void* allocate(size_t bytes, int device, cudaStream_t stream) override {
    AsyncDevice& ad = dev(device);
    AllocLock lock(ad.mutex);
    probes::count(probes::Counter::alloc_calls);
    cuda::DeviceGuard g(device);
    ensure_pool(ad, device);
    size_t size = (bytes + 511) / 512 * 512;
    int64_t before = pool_reserved(ad.pool);
    void* p = nullptr;
    cudaError_t err = cudaMallocFromPoolAsync(&p, size, ad.pool, stream);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      // Memory freed on other streams may still be held by the pool: wait for it and trim.
      cuda::note_host_sync("allocator_oom_synchronize");
      VT_CUDA_CHECK(cudaDeviceSynchronize());
      VT_CUDA_CHECK(cudaMemPoolTrimTo(ad.pool, 0));
      {
        MetadataLock m(lock);
        ad.stats.alloc_retries++;
        ad.stats.on_reserve(pool_reserved(ad.pool) - ad.stats.reserved);
      }
      before = pool_reserved(ad.pool);
      err = cudaMallocFromPoolAsync(&p, size, ad.pool, stream);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      if (err == cudaErrorMemoryAllocation) {
        Stats s;
        {
          MetadataLock m(lock);
          ad.stats.ooms++;
          s = ad.stats;
        }
        throw_oom("async", bytes, device, s, err);
      }
      VT_CUDA_CHECK(err);
    }
    int64_t after = pool_reserved(ad.pool);
    bool hit = after <= before;
    probes::count(probes::Counter::device_malloc_calls);
    probes::count(hit ? probes::Counter::alloc_hits : probes::Counter::alloc_misses);
    MetadataLock m(lock);
    ad.active.emplace(p, AsyncAlloc{size, bytes, stream, {}});
    ad.stats.alloc_calls++;
    ad.stats.device_mallocs++;
    if (hit) ad.stats.hits++;
    else ad.stats.misses++;
    ad.stats.on_reserve(after - ad.stats.reserved);
    ad.stats.segments = int64_t(ad.active.size());
    ad.stats.on_alloc(int64_t(size), int64_t(bytes));
    return p;
  }

  void free(void* ptr, int device) noexcept override {
    try {
      AsyncDevice& ad = dev(device);
      AllocLock lock(ad.mutex);
      AsyncAlloc a;
      {
        MetadataLock m(lock);
        auto it = ad.active.find(ptr);
        if (it == ad.active.end()) {
          std::fprintf(stderr, "vibetensor: async allocator: free of unknown pointer %p on cuda:%d ignored\n", ptr, device);
          return;
        }
        a = std::move(it->second);
        ad.active.erase(it);
        ad.stats.free_calls++;
        ad.stats.on_free(int64_t(a.size), int64_t(a.requested));
        ad.stats.segments = int64_t(ad.active.size());
      }
      int cur = -1;
      if (cudaGetDevice(&cur) != cudaSuccess) return;  // runtime shutting down
      if (cur != device) cudaSetDevice(device);
      for (cudaStream_t s : a.uses) {
        cudaEvent_t ev;
        if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) != cudaSuccess) continue;
        cudaEventRecord(ev, s);
        cudaStreamWaitEvent(a.stream, ev, 0);
        cudaEventDestroy(ev);
      }
      cudaError_t err = cudaFreeAsync(ptr, a.stream);
      cudaGetLastError();
      if (err == cudaSuccess) {
        probes::count(probes::Counter::device_free_calls);
        int64_t r = pool_reserved(ad.pool);
        MetadataLock m(lock);
        ad.stats.device_frees++;
        ad.stats.on_reserve(r - ad.stats.reserved);
      }
      if (cur != device) cudaSetDevice(cur);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vibetensor: async allocator: error while freeing CUDA memory: %s\n", e.what());
    }
  }

  void record_stream(void* ptr, int device, cudaStream_t stream) override {
    AsyncDevice& ad = dev(device);
    AllocLock lock(ad.mutex);
    MetadataLock m(lock);
    auto it = ad.active.find(ptr);
    if (it == ad.active.end() || it->second.stream == stream) return;
    for (cudaStream_t s : it->second.uses)
      if (s == stream) return;
    it->second.uses.push_back(stream);
  }

  void empty_cache() override {
    for (int d = 0; d < cuda::kMaxDevices; ++d) {
      AsyncDevice* ad = devs_.find(d);
      if (!ad) continue;
      AllocLock lock(ad->mutex);
      if (!ad->pool) continue;
      cuda::DeviceGuard g(d);
      // Memory freed with cudaFreeAsync returns to the pool when the stream reaches the free.
      cuda::note_host_sync("empty_cache_synchronize");
      VT_CUDA_CHECK(cudaDeviceSynchronize());
      VT_CUDA_CHECK(cudaMemPoolTrimTo(ad->pool, 0));
      MetadataLock m(lock);
      ad->stats.on_reserve(pool_reserved(ad->pool) - ad->stats.reserved);
    }
  }

  Stats stats(int device) override { return dev(device).locked_stats(); }
  void reset_peak(int device) override { dev(device).update_stats([](Stats& s) { s.reset_peaks(); }); }
  void reset_counters(int device) override { dev(device).update_stats([](Stats& s) { s.reset_counters(); }); }

  std::vector<SegmentInfo> snapshot() override { return snapshot_allocations(devs_, "pool"); }


 private:
  AsyncDevice& dev(int device) { return devs_.get(device, "async allocator"); }

  static void ensure_pool(AsyncDevice& ad, int device) {
    if (ad.pool) return;
    int supported = 0;
    VT_CUDA_CHECK(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
    VT_CHECK(supported, "alloc.cuda=async: cuda:", device, " does not support stream-ordered memory pools "
             "(cudaMallocAsync); choose alloc.cuda=caching or direct");
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.handleTypes = cudaMemHandleTypeNone;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = device;
    VT_CUDA_CHECK(cudaMemPoolCreate(&ad.pool, &props));
    uint64_t keep_all = UINT64_MAX;
    VT_CUDA_CHECK(cudaMemPoolSetAttribute(ad.pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
  }

  PerDevice<AsyncDevice> devs_;
};

}  // namespace

std::unique_ptr<DeviceAllocator> make_async_allocator() { return std::make_unique<AsyncAllocator>(); }

}  // namespace vt::alloc
