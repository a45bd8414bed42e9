// The direct allocator (alloc.cuda=direct): cudaMalloc and cudaFree for every tensor. No cache,
// so every allocation is a miss and every free waits for the device (cudaFree synchronizes), which
// also makes record_stream unnecessary.
#include <algorithm>
#include <array>
#include <atomic>
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

struct DirectAlloc {
  size_t size, requested;
  cudaStream_t stream;
};
struct DirectDevice : PerAllocationDevice<DirectAlloc> {
  explicit DirectDevice(int /*device*/) {}
};

class DirectAllocator final : public DeviceAllocator {
 public:
  const char* name() const override { return "direct"; }

  void* allocate(size_t bytes, int device, cudaStream_t stream) override {
    DirectDevice& dd = dev(device);
    AllocLock lock(dd.mutex);
    probes::count(probes::Counter::alloc_calls);
    cuda::DeviceGuard g(device);
    size_t size = (bytes + 511) / 512 * 512;
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err != cudaSuccess) {
      cudaGetLastError();
      if (err == cudaErrorMemoryAllocation) {
        Stats s;
        {
          MetadataLock m(lock);
          dd.stats.ooms++;
          s = dd.stats;
        }
        throw_oom("direct", bytes, device, s, err);
      }
      VT_CUDA_CHECK(err);
    }
    probes::count(probes::Counter::device_malloc_calls);
    probes::count(probes::Counter::alloc_misses);
    MetadataLock m(lock);
    dd.active.emplace(p, DirectAlloc{size, bytes, stream});
    dd.stats.alloc_calls++;
    dd.stats.misses++;
    dd.stats.device_mallocs++;
    dd.stats.segments++;
    dd.stats.on_reserve(int64_t(size));
    dd.stats.on_alloc(int64_t(size), int64_t(bytes));
    return p;
  }

  void free(void* ptr, int device) noexcept override {
    try {
      DirectDevice& dd = dev(device);
      AllocLock lock(dd.mutex);
      DirectAlloc a;
      {
        MetadataLock m(lock);
        auto it = dd.active.find(ptr);
        if (it == dd.active.end()) {
          std::fprintf(stderr, "vibetensor: direct allocator: free of unknown pointer %p on cuda:%d ignored\n", ptr, device);
          return;
        }
        a = it->second;
        dd.active.erase(it);
        dd.stats.free_calls++;
        dd.stats.on_free(int64_t(a.size), int64_t(a.requested));
      }
      int cur = -1;
      if (cudaGetDevice(&cur) != cudaSuccess) return;  // runtime shutting down
      if (cur != device) cudaSetDevice(device);
      cuda::note_host_sync("cudaFree");
      cudaError_t err = cudaFree(ptr);
      cudaGetLastError();
      if (cur != device) cudaSetDevice(cur);
      if (err != cudaSuccess) return;
      probes::count(probes::Counter::device_free_calls);
      MetadataLock m(lock);
      dd.stats.device_frees++;
      dd.stats.segments--;
      dd.stats.on_reserve(-int64_t(a.size));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vibetensor: direct allocator: error while freeing CUDA memory: %s\n", e.what());
    }
  }

  void record_stream(void*, int, cudaStream_t) override {}  // cudaFree waits for every stream
  void empty_cache() override {}                            // nothing is cached

  Stats stats(int device) override { return dev(device).locked_stats(); }
  void reset_peak(int device) override { dev(device).update_stats([](Stats& s) { s.reset_peaks(); }); }
  void reset_counters(int device) override { dev(device).update_stats([](Stats& s) { s.reset_counters(); }); }

  std::vector<SegmentInfo> snapshot() override { return snapshot_allocations(devs_, "direct"); }


 private:
  DirectDevice& dev(int device) { return devs_.get(device, "direct allocator"); }

  PerDevice<DirectDevice> devs_;
};

}  // namespace

std::unique_ptr<DeviceAllocator> make_direct_allocator() { return std::make_unique<DirectAllocator>(); }

}  // namespace vt::alloc
