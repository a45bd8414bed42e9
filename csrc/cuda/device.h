#pragma once
// CUDA devices: how many there are (0, never an exception, when there is no GPU or driver), the
// calling thread's current device, and a guard that switches it for a scope.
#include <string>
#include <utility>

#include "core/device.h"

namespace vt::cuda {

constexpr int kMaxDevices = 64;

// Devices visible to this process; 0 without a GPU or a driver. Computed once.
int device_count();
bool is_available();
// Why device_count() is 0 ("" when it is not): the CUDA error of cudaGetDeviceCount.
const std::string& unavailable_reason();

int current_device();
void set_device(int device);
std::string device_name(int device);
// (major, minor) compute capability.
std::pair<int, int> device_capability(int device);

// Raises a RuntimeError unless `d` is a CUDA device that exists: "no CUDA GPU is available" or
// "cuda:3 is not a valid device (2 visible)".
void check_device(Device d);
// -1 (the current device) or an index; checked.
int resolve_device(int device);

// Makes `device` current for a scope and restores the previous one (no CUDA call when it
// already is current).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;
};

}  // namespace vt::cuda
