#pragma once
// Storage: a refcounted block of device memory shared by all views of it. It also carries the
// version counter, bumped by in-place writes and checked by autograd (see Note [Version counter]).
#include <atomic>
#include <cstddef>
#include <functional>

#include "core/device.h"
#include "core/intrusive_ptr.h"

namespace vt {

class StorageImpl : public RefCounted {
 public:
  using Deleter = std::function<void(void*)>;
  StorageImpl(void* data, size_t nbytes, Device device, Deleter deleter)
      : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}
  ~StorageImpl() override { if (deleter_) deleter_(data_); }

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  Deleter deleter_;
  std::atomic<uint64_t> version_{0};
};
using Storage = IntrusivePtr<StorageImpl>;

// Note [Version counter]: PyTorch keeps the counter per view family; we keep it on the storage,
// which every view shares. Tensors made by from_dlpack over the same memory count separately.

// Allocates uninitialized memory on `device` through the allocator in force for it.
Storage allocate_storage(size_t nbytes, Device device);

// Hook for a backend's allocator: set by the CUDA backend when it is built and loaded; for the CPU,
// optional (core/cpu_memory.h).
using DeviceAllocateFn = Storage (*)(size_t nbytes, Device device);
void set_device_allocator(DeviceType type, DeviceAllocateFn fn);
// Whether a backend for `type` is compiled in (CPU always is).
bool has_device_allocator(DeviceType type);

}  // namespace vt
