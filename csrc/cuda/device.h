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

// What torch.cuda.get_device_properties reports, read from cudaGetDeviceProperties.
struct DeviceProperties {
  std::string name;
  int major = 0, minor = 0;
  size_t total_memory = 0;
  int multi_processor_count = 0, max_threads_per_multi_processor = 0, warp_size = 0, L2_cache_size = 0;
  int regs_per_multiprocessor = 0;
  bool is_integrated = false, is_multi_gpu_board = false;
};
DeviceProperties device_properties(int device);

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
