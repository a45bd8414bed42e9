#pragma once
// Kernels from cubin images, loaded and launched through the CUDA driver API: the C++ half of the
// kernel suite's launch path (Note [Kernel suite launch path] in ops/suite/launch.h).
#include <cuda_runtime_api.h>

#include <string>

namespace vt::cuda {

// A kernel function loaded into a device's primary context. Modules stay loaded for the process.
struct DriverFunction {
  void* function = nullptr;  // CUfunction
  int device = -1;
  int shared_bytes = 0;      // dynamic shared memory every launch asks for
};

// Loads `cubin` on `device` and looks up `symbol`; raises a RuntimeError naming the symbol and the
// driver's message when the image does not load (wrong architecture, corrupt image). Opts the
// function into more than 48 KiB of dynamic shared memory when `shared_bytes` needs it.
DriverFunction load_function(int device, const std::string& cubin, const std::string& symbol, int shared_bytes);

// cuLaunchKernel on `stream` with `threads` threads per block; `params` points at each argument.
void launch_function(const DriverFunction& f, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned threads,
                     cudaStream_t stream, void** params);

}  // namespace vt::cuda
