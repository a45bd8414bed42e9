#include "alloc/pinned.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <deque>
#include <map>
#include <vector>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/sync_ledger.h"
#include "probes/instrumented_mutex.h"

namespace vt::alloc {

namespace {

struct PinnedBlock {
  char* ptr;
  size_t size;
  bool allocated = false;
  int pending_events = 0;
  std::vector<cuda::Stream> uses;
};

struct PinnedCache {
  probes::InstrumentedMutex mutex{"alloc.pinned"};
  std::map<uintptr_t, PinnedBlock*> blocks;              // by address, for is_pinned and free
  std::map<size_t, std::vector<PinnedBlock*>> free_lists;  // by size
  std::deque<std::tuple<cudaEvent_t, int, PinnedBlock*>> pending;
  PinnedStats stats;
};

PinnedCache& cache() {
  static auto* c = new PinnedCache();  // never destroyed: tensors may die during teardown
  return *c;
}

size_t round_pow2(size_t n) {
  size_t s = 512;
  while (s < n) s <<= 1;
  return s;
}

PinnedBlock* find_block(PinnedCache& c, const void* p) {
  auto it = c.blocks.upper_bound(uintptr_t(p));
  if (it == c.blocks.begin()) return nullptr;
  --it;
  PinnedBlock* b = it->second;
  return uintptr_t(p) < uintptr_t(b->ptr) + b->size ? b : nullptr;
}

void to_free_list(PinnedCache& c, PinnedBlock* b) {
  b->allocated = false;
  c.free_lists[b->size].push_back(b);
}

void process_events(PinnedCache& c) {
  while (!c.pending.empty()) {
    auto [ev, dev, b] = c.pending.front();
    cudaError_t err = cudaEventQuery(ev);
    if (err == cudaErrorNotReady) {
      cudaGetLastError();
      break;
    }
    cudaGetLastError();
    c.pending.pop_front();
    cudaEventDestroy(ev);
    if (--b->pending_events == 0) to_free_list(c, b);
  }
}

}  // namespace

void* pinned_allocate(size_t bytes) {
  VT_CHECK(cuda::is_available(), "pinned memory needs a CUDA GPU, but no CUDA GPU is available (",
           cuda::unavailable_reason(), ")");
  PinnedCache& c = cache();
  std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
  process_events(c);
  size_t size = round_pow2(bytes);
  auto& fl = c.free_lists[size];
  PinnedBlock* b;
  if (!fl.empty()) {
    b = fl.back();
    fl.pop_back();
    c.stats.hits++;
  } else {
    void* p = nullptr;
    {
      VT_PROBE_SCOPE(alloc, coarse, "cudaHostAlloc");  // the pinned cache grows: Note [NVTX ranges]
      VT_CUDA_CHECK(cudaHostAlloc(&p, size, cudaHostAllocDefault));
    }
    b = new PinnedBlock{static_cast<char*>(p), size};
    c.blocks.emplace(uintptr_t(p), b);
    c.stats.host_allocs++;
    c.stats.reserved += int64_t(size);
  }
  b->allocated = true;
  c.stats.allocated += int64_t(size);
  return b->ptr;
}

void pinned_free(void* ptr) noexcept {
  PinnedCache& c = cache();
  std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
  PinnedBlock* b = find_block(c, ptr);
  if (!b || !b->allocated) {
    std::fprintf(stderr, "vibetensor: pinned allocator: free of unknown pointer %p ignored\n", ptr);
    return;
  }
  c.stats.allocated -= int64_t(b->size);
  if (b->uses.empty()) {
    to_free_list(c, b);
    return;
  }
  for (const cuda::Stream& s : b->uses) {
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess) break;  // runtime shutting down: leak the block
    if (cur != s.device()) cudaSetDevice(s.device());
    cudaEvent_t ev;
    if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) == cudaSuccess) {
      if (cudaEventRecord(ev, s.handle()) == cudaSuccess) {
        c.pending.emplace_back(ev, s.device(), b);
        b->pending_events++;
      } else {
        cudaEventDestroy(ev);
      }
    }
    cudaGetLastError();
    if (cur != s.device()) cudaSetDevice(cur);
  }
  b->uses.clear();
  if (b->pending_events == 0) to_free_list(c, b);
}

void pinned_record_stream(const void* ptr, const cuda::Stream& s) {
  PinnedCache& c = cache();
  std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
  PinnedBlock* b = find_block(c, ptr);
  if (!b) return;  // pinned elsewhere: the owner orders its reuse
  for (const cuda::Stream& u : b->uses)
    if (u == s) return;
  b->uses.push_back(s);
}

bool is_pinned(const void* ptr) {
  if (!ptr || !cuda::is_available()) return false;
  {
    PinnedCache& c = cache();
    std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
    if (find_block(c, ptr)) return true;
  }
  cudaPointerAttributes attr;
  cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
  cudaGetLastError();
  return err == cudaSuccess && attr.type == cudaMemoryTypeHost;
}

Storage pinned_storage(size_t nbytes) {
  if (nbytes == 0) return Storage::make(nullptr, 0, Device{}, nullptr);
  void* p = pinned_allocate(nbytes);
  return Storage::make(p, nbytes, Device{}, [](void* q) { pinned_free(q); });
}

void pinned_empty_cache() {
  PinnedCache& c = cache();
  std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
  process_events(c);
  for (auto& [size, fl] : c.free_lists) {
    for (PinnedBlock* b : fl) {
      cuda::HostSync host_sync("cudaFreeHost");  // cudaFreeHost waits for the device
      VT_CUDA_CHECK(cudaFreeHost(b->ptr));
      c.blocks.erase(uintptr_t(b->ptr));
      c.stats.host_frees++;
      c.stats.reserved -= int64_t(b->size);
      delete b;
    }
    fl.clear();
  }
}

PinnedStats pinned_stats() {
  PinnedCache& c = cache();
  std::lock_guard<probes::InstrumentedMutex> g(c.mutex);
  return c.stats;
}

}  // namespace vt::alloc
