// The direct allocator (alloc.cuda=direct): cudaMalloc and cudaFree for every tensor. No cache,
// so every allocation is a miss and every free waits for the device (cudaFree synchronizes), which
// also makes record_stream unnecessary. The bookkeeping is TrackingAdaptor's (Note [Allocator adaptor]).
#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "alloc/per_allocation.h"
#include "alloc/tracking_adaptor.h"
#include "cuda/sync_ledger.h"
#include "probes/counters.h"

namespace vt::alloc {
namespace {

struct DirectAlloc {
  size_t size, requested;
  cudaStream_t stream;
};

struct DirectStrategy {
  static constexpr const char* kName = "direct";
  static constexpr bool kOrdersStreamUses = false;  // cudaFree waits for every stream
  using Record = DirectAlloc;
  using Outcome = Served<Record>;
  struct Device : TrackedDevice<Record> {
    using TrackedDevice<Record>::TrackedDevice;
  };

  Outcome allocate(Device& dd, const AllocLock& lock, size_t bytes, cudaStream_t stream) {
    VT_PROBE_SCOPE(alloc, coarse, "cudaMalloc");  // a new segment per tensor: Note [NVTX ranges]
    size_t size = (bytes + 511) / 512 * 512;
    void* p = nullptr;
    dd.check_device_malloc(cudaMalloc(&p, size), lock, kName, bytes);
    probes::count(probes::Counter::device_malloc_calls);
    return {p, DirectAlloc{size, bytes, stream}, /*hit=*/false};
  }

  void on_allocated(Device& dd, const Outcome& o) {
    dd.stats.device_mallocs++;
    dd.stats.segments++;
    dd.stats.on_reserve(int64_t(o.record.size));
  }

  void release(Device& dd, const AllocLock& lock, void* ptr, const DirectAlloc& a) {
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess) return;  // runtime shutting down
    if (cur != dd.device) cudaSetDevice(dd.device);
    cuda::HostSync host_sync("cudaFree");
    cudaError_t err = cudaFree(ptr);
    cudaGetLastError();
    if (cur != dd.device) cudaSetDevice(cur);
    if (err != cudaSuccess) return;
    probes::count(probes::Counter::device_free_calls);
    MetadataLock m(lock);
    dd.stats.device_frees++;
    dd.stats.segments--;
    dd.stats.on_reserve(-int64_t(a.size));
  }

  void snapshot(const Device& dd, std::vector<SegmentInfo>& out) { append_allocation_segments(dd, "direct", out); }
};

}  // namespace

std::unique_ptr<DeviceAllocator> make_direct_allocator() { return std::make_unique<TrackingAdaptor<DirectStrategy>>(); }

}  // namespace vt::alloc
