// See driver_module.h. The driver's entry points come from the CUDA runtime
// (cudaGetDriverEntryPointByVersion) rather than from linking libcuda: like the static cudart
// (cmake/cuda.cmake), the module then opens the driver only when a kernel is first loaded.
#include "cuda/driver_module.h"

#include <cuda.h>

#include <mutex>

#include "core/error.h"
#include "cuda/device.h"
#include "cuda/status_check.h"

namespace vt::cuda {
namespace {

struct DriverApi {
  decltype(&::cuModuleLoadData) module_load_data = nullptr;
  decltype(&::cuModuleGetFunction) module_get_function = nullptr;
  decltype(&::cuFuncSetAttribute) func_set_attribute = nullptr;
  decltype(&::cuLaunchKernel) launch_kernel = nullptr;
  decltype(&::cuGetErrorString) get_error_string = nullptr;
};

template <class F> void entry_point(const char* symbol, F& out) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult status{};
  // 12000: the ABI of these calls has not changed since CUDA 12.0 (cuLaunchKernel's since 4.0).
  VT_CUDA_CHECK(cudaGetDriverEntryPointByVersion(symbol, &fn, 12000, cudaEnableDefault, &status));
  VT_CHECK(status == cudaDriverEntryPointSuccess && fn != nullptr, "the CUDA driver has no entry point ", symbol,
           " (status ", int(status), "); the kernel suite needs a driver for CUDA 12.0 or later");
  out = reinterpret_cast<F>(fn);
}

const DriverApi& driver() {
  static const DriverApi api = [] {
    DriverApi a;
    entry_point("cuModuleLoadData", a.module_load_data);
    entry_point("cuModuleGetFunction", a.module_get_function);
    entry_point("cuFuncSetAttribute", a.func_set_attribute);
    entry_point("cuLaunchKernel", a.launch_kernel);
    entry_point("cuGetErrorString", a.get_error_string);
    return a;
  }();
  return api;
}

std::string error_text(CUresult r) {
  const char* s = nullptr;
  driver().get_error_string(r, &s);
  return s ? s : "unknown driver error " + std::to_string(int(r));
}

}  // namespace

DriverFunction load_function(int device, const std::string& cubin, const std::string& symbol, int shared_bytes) {
  const DriverApi& api = driver();
  DeviceGuard guard(device);
  VT_CUDA_CHECK(cudaFree(nullptr));  // makes the device's primary context current on this thread
  CUmodule module = nullptr;
  CUresult r = api.module_load_data(&module, cubin.data());
  VT_CHECK(r == CUDA_SUCCESS, "kernel suite: the driver cannot load the image of ", symbol, " on cuda:", device, ": ",
           error_text(r));
  CUfunction fn = nullptr;
  r = api.module_get_function(&fn, module, symbol.c_str());
  VT_CHECK(r == CUDA_SUCCESS, "kernel suite: the image has no kernel named ", symbol, ": ", error_text(r));
  if (shared_bytes > 48 * 1024) {  // above 48 KiB a kernel must opt in (as Triton's own loader does)
    r = api.func_set_attribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared_bytes);
    VT_CHECK(r == CUDA_SUCCESS, "kernel suite: ", symbol, " needs ", shared_bytes,
             " bytes of shared memory, which cuda:", device, " refuses: ", error_text(r));
  }
  return DriverFunction{fn, device, shared_bytes};
}

void launch_function(const DriverFunction& f, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned threads,
                     cudaStream_t stream, void** params) {
  CUresult r = driver().launch_kernel(static_cast<CUfunction>(f.function), grid_x, grid_y, grid_z, threads, 1, 1,
                                      unsigned(f.shared_bytes), reinterpret_cast<CUstream>(stream), params, nullptr);
  VT_CHECK(r == CUDA_SUCCESS, "kernel suite: cuLaunchKernel failed (grid ", grid_x, "x", grid_y, "x", grid_z, ", ",
           threads, " threads, ", f.shared_bytes, " bytes of shared memory): ", error_text(r));
}

}  // namespace vt::cuda
