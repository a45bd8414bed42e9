// Which CUDA allocator is in force (policy alloc.cuda, fixed at the first CUDA allocation), and
// the hook through which vt::allocate_storage reaches it.
#include <atomic>
#include <mutex>

#include "alloc/allocator.h"
#include "core/storage.h"
#include "cuda/device.h"
#include "cuda/stream.h"
#include "policy/catalogue.h"

namespace vt::alloc {

namespace {
std::atomic<DeviceAllocator*> g_allocator{nullptr};
std::once_flag g_once;
}  // namespace

DeviceAllocator& cuda_allocator() {
  DeviceAllocator* a = g_allocator.load(std::memory_order_acquire);
  if (a) [[likely]] return *a;
  std::call_once(g_once, [] {
    // The strategy and the caching allocator's layout shape long-lived state: fixed from here on.
    policy::alloc_cuda.mark_used();
    policy::alloc_split.mark_used();
    policy::alloc_segments.mark_used();
    std::unique_ptr<DeviceAllocator> p;
    switch (policy::alloc_cuda.get()) {
      case policy::AllocCuda::caching: p = make_caching_allocator(); break;
      case policy::AllocCuda::async: p = make_async_allocator(); break;
      case policy::AllocCuda::direct: p = make_direct_allocator(); break;
    }
    // Never destroyed: tensors may be released during interpreter teardown.
    g_allocator.store(p.release(), std::memory_order_release);
  });
  return *g_allocator.load(std::memory_order_acquire);
}

DeviceAllocator* cuda_allocator_if_created() { return g_allocator.load(std::memory_order_acquire); }

namespace {

Storage allocate_cuda_storage(size_t nbytes, Device device) {
  cuda::check_device(device);
  int dev = device.index;
  if (nbytes == 0) return Storage::make(nullptr, 0, device, nullptr);
  void* p = cuda_allocator().allocate(nbytes, dev, cuda::current_stream(dev).handle());
  return Storage::make(p, nbytes, device, [dev](void* q) { cuda_allocator().free(q, dev); });
}

struct Registrar {
  Registrar() { set_device_allocator(DeviceType::CUDA, &allocate_cuda_storage); }
} g_registrar;

}  // namespace

}  // namespace vt::alloc
