// The stream-ordered driver allocator (alloc.cuda=async): cudaMallocFromPoolAsync and
// cudaFreeAsync on a pool per device. See Note [CUDA allocators] and Note [Async allocator]; the
// bookkeeping is TrackingAdaptor's (Note [Allocator adaptor]).
#include <cstdint>
#include <vector>

#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "alloc/per_allocation.h"
#include "alloc/tracking_adaptor.h"
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
  std::vector<cudaStream_t> stream_uses;  // other streams that used it (record_stream)
};

int64_t pool_reserved(cudaMemPool_t pool) {
  uint64_t v = 0;
  VT_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &v));
  return int64_t(v);
}

struct AsyncStrategy {
  static constexpr const char* kName = "async";
  static constexpr bool kOrdersStreamUses = true;
  using Record = AsyncAlloc;
  struct Outcome : Served<Record> {
    int64_t pool_reserved;  // after the allocation
  };
  struct Device : TrackedDevice<Record> {
    using TrackedDevice<Record>::TrackedDevice;
    cudaMemPool_t pool = nullptr;
  };

  Outcome allocate(Device& ad, const AllocLock& lock, size_t bytes, cudaStream_t stream) {
    ensure_pool(ad);
    size_t size = (bytes + 511) / 512 * 512;
    int64_t before = pool_reserved(ad.pool);
    void* p = nullptr;
    cudaError_t err = cudaMallocFromPoolAsync(&p, size, ad.pool, stream);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      // Memory freed on other streams may still be held by the pool: wait for it and trim.
      cuda::HostSync host_sync("allocator_oom_synchronize");
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
    ad.check_device_malloc(err, lock, kName, bytes);
    int64_t after = pool_reserved(ad.pool);
    probes::count(probes::Counter::device_malloc_calls);
    return {{p, AsyncAlloc{size, bytes, stream, {}}, /*hit=*/after <= before}, after};
  }

  void on_allocated(Device& ad, const Outcome& o) {
    ad.stats.device_mallocs++;
    ad.stats.on_reserve(o.pool_reserved - ad.stats.reserved);
    ad.stats.segments = int64_t(ad.active.size());
  }
  void on_freed(Device& ad) { ad.stats.segments = int64_t(ad.active.size()); }

  void release(Device& ad, const AllocLock& lock, void* ptr, const AsyncAlloc& a) {
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess) return;  // runtime shutting down
    if (cur != ad.device) cudaSetDevice(ad.device);
    for (cudaStream_t s : a.stream_uses) {
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
    if (cur != ad.device) cudaSetDevice(cur);
  }

  void empty_cache(Device& ad, const AllocLock& lock) {
    if (!ad.pool) return;
    cuda::DeviceGuard g(ad.device);
    // Memory freed with cudaFreeAsync returns to the pool when the stream reaches the free.
    cuda::HostSync host_sync("empty_cache_synchronize");
    VT_CUDA_CHECK(cudaDeviceSynchronize());
    VT_CUDA_CHECK(cudaMemPoolTrimTo(ad.pool, 0));
    MetadataLock m(lock);
    ad.stats.on_reserve(pool_reserved(ad.pool) - ad.stats.reserved);
  }

  void snapshot(const Device& ad, std::vector<SegmentInfo>& out) { append_allocation_segments(ad, "pool", out); }

 private:
  static void ensure_pool(Device& ad) {
    if (ad.pool) return;
    int supported = 0;
    VT_CUDA_CHECK(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, ad.device));
    VT_CHECK(supported, "alloc.cuda=async: cuda:", ad.device, " does not support stream-ordered memory pools "
             "(cudaMallocAsync); choose alloc.cuda=caching or direct");
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.handleTypes = cudaMemHandleTypeNone;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = ad.device;
    VT_CUDA_CHECK(cudaMemPoolCreate(&ad.pool, &props));
    uint64_t keep_all = UINT64_MAX;
    VT_CUDA_CHECK(cudaMemPoolSetAttribute(ad.pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
  }
};

}  // namespace

std::unique_ptr<DeviceAllocator> make_async_allocator() { return std::make_unique<TrackingAdaptor<AsyncStrategy>>(); }

}  // namespace vt::alloc
