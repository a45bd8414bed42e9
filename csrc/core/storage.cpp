#include "core/storage.h"

#include <cstdint>
#include <cstdlib>

#include "core/cpu_memory.h"
#include "core/error.h"

namespace vt {

namespace {
DeviceAllocateFn g_device_alloc[2] = {nullptr, nullptr};

Storage allocate_cpu(size_t nbytes, Device device) {
  return Storage::make(cpu_malloc(nbytes), nbytes, device, [](void* q) { cpu_free(q); });
}
}  // namespace

void* cpu_malloc(size_t nbytes) {
  // Callers check their sizes (Note [Shape overflow]); this keeps the rounding below from wrapping.
  VT_CHECK(nbytes <= size_t(INT64_MAX), "out of memory: cannot allocate ", nbytes, " bytes on the CPU (more than 2^63)");
  size_t rounded = (nbytes + 63) & ~size_t(63);
  void* p = rounded ? std::aligned_alloc(64, rounded) : nullptr;
  VT_CHECK(p || rounded == 0, "out of memory: failed to allocate ", nbytes, " bytes on the CPU");
  return p;
}
void cpu_free(void* p) noexcept { std::free(p); }

void set_device_allocator(DeviceType type, DeviceAllocateFn fn) { g_device_alloc[int(type)] = fn; }
bool has_device_allocator(DeviceType type) { return type == DeviceType::CPU || g_device_alloc[int(type)] != nullptr; }

Storage allocate_storage(size_t nbytes, Device device) {
  DeviceAllocateFn fn = g_device_alloc[int(device.type)];
  if (device.is_cpu()) return fn ? fn(nbytes, device) : allocate_cpu(nbytes, device);
  VT_CHECK(fn, "device ", device, " is not available: vibetensor was built without CUDA");
  return fn(nbytes, device);
}

}  // namespace vt
