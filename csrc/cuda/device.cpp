#include "cuda/device.h"

#include <cuda_runtime_api.h>

#include <mutex>

#include "cuda/status_check.h"

namespace vt::cuda {

namespace {
struct DeviceCount {
  int count = 0;
  std::string reason;
};

const DeviceCount& probe() {
  static const DeviceCount dc = [] {
    DeviceCount d;
    int n = 0;
    // Without a driver this fails (cudaErrorInsufficientDriver / cudaErrorNoDevice) rather than
    // aborting: cudart is linked statically and loads libcuda lazily.
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();
      d.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      n = 0;
    } else if (n == 0) {
      d.reason = "no CUDA devices are visible (check CUDA_VISIBLE_DEVICES)";
    }
    d.count = n > kMaxDevices ? kMaxDevices : n;
    return d;
  }();
  return dc;
}
}  // namespace

int device_count() { return probe().count; }
bool is_available() { return device_count() > 0; }
const std::string& unavailable_reason() { return probe().reason; }

void check_device(Device d) {
  VT_CHECK(d.is_cuda(), "expected a CUDA device, got ", d);
  int n = device_count();
  VT_CHECK(n > 0, "CUDA device ", d, " was requested but no CUDA GPU is available (", unavailable_reason(), ")");
  VT_CHECK(d.index >= 0 && d.index < n, d, " is not a valid CUDA device: ", n, " device(s) are visible (cuda:0 to cuda:",
           n - 1, ")");
}

int resolve_device(int device) {
  if (device < 0) {
    VT_CHECK(is_available(), "no CUDA GPU is available (", unavailable_reason(), ")");
    return current_device();
  }
  check_device(Device{DeviceType::CUDA, int8_t(device)});
  return device;
}

int current_device() {
  VT_CHECK(is_available(), "no CUDA GPU is available (", unavailable_reason(), ")");
  int d = 0;
  VT_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int device) {
  check_device(Device{DeviceType::CUDA, int8_t(device)});
  VT_CUDA_CHECK(cudaSetDevice(device));
}

std::string device_name(int device) {
  device = resolve_device(device);
  cudaDeviceProp p;
  VT_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return p.name;
}

DeviceProperties device_properties(int device) {
  device = resolve_device(device);
  cudaDeviceProp p;
  VT_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  DeviceProperties d;
  d.name = p.name;
  d.major = p.major;
  d.minor = p.minor;
  d.total_memory = p.totalGlobalMem;
  d.multi_processor_count = p.multiProcessorCount;
  d.max_threads_per_multi_processor = p.maxThreadsPerMultiProcessor;
  d.warp_size = p.warpSize;
  d.L2_cache_size = p.l2CacheSize;
  d.regs_per_multiprocessor = p.regsPerMultiprocessor;
  d.is_integrated = p.integrated != 0;
  d.is_multi_gpu_board = p.isMultiGpuBoard != 0;
  return d;
}

std::pair<int, int> device_capability(int device) {
  device = resolve_device(device);
  int major = 0, minor = 0;
  VT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  VT_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return {major, minor};
}

DeviceGuard::DeviceGuard(int device) {
  int cur = 0;
  VT_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != device) {
    VT_CUDA_CHECK(cudaSetDevice(device));
    prev_ = cur;
  }
}

DeviceGuard::~DeviceGuard() {
  if (prev_ >= 0) cudaSetDevice(prev_);  // no throw from a destructor; the device existed before
}

}  // namespace vt::cuda
