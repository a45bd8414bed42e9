#pragma once
// Per-device allocator state, created on first use of a device and never freed (storages may be
// released during interpreter teardown, after static destructors would have run).
#include <array>
#include <atomic>
#include <mutex>

#include "core/error.h"
#include "cuda/device.h"

namespace vt::alloc {

template <class T>
class PerDevice {
 public:
  // The state of `device`, made with T(device) the first time; lock-free after that.
  T& get(int device, const char* who) {
    VT_CHECK(device >= 0 && device < cuda::kMaxDevices, who, ": invalid device index ", device);
    T* s = slots_[device].load(std::memory_order_acquire);
    if (s) [[likely]] return *s;
    std::lock_guard<std::mutex> g(create_mutex_);
    s = slots_[device].load(std::memory_order_relaxed);
    if (!s) {
      s = new T(device);
      slots_[device].store(s, std::memory_order_release);
    }
    return *s;
  }
  // The state of `device` if it was ever used, else nullptr (snapshots, empty_cache).
  T* find(int device) const { return slots_[device].load(std::memory_order_acquire); }

 private:
  std::mutex create_mutex_;
  std::array<std::atomic<T*>, cuda::kMaxDevices> slots_{};
};

}  // namespace vt::alloc
