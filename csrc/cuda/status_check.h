#pragma once
// Checks of CUDA status codes: VT_CUDA_CHECK(call) raises a vt::Error (RuntimeError in Python)
// naming the CUDA error, the call and the call site. (The error type itself is core/error.h.)
#include <cuda_runtime_api.h>

#include "core/error.h"

namespace vt::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

}  // namespace vt::cuda

#define VT_CUDA_CHECK(call)                                                              \
  do {                                                                                   \
    cudaError_t vt_cuda_err_ = (call);                                                   \
    if (vt_cuda_err_ != cudaSuccess) [[unlikely]]                                        \
      ::vt::cuda::throw_cuda_error(vt_cuda_err_, #call, __FILE__, __LINE__);             \
  } while (0)

// After a kernel launch: launch errors (bad configuration, no kernel image for this GPU).
#define VT_CUDA_KERNEL_LAUNCH_CHECK() VT_CUDA_CHECK(cudaGetLastError())
