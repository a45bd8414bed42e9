#include "cuda/status_check.h"

namespace vt::cuda {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // Clear the error so later calls do not report it again (a sticky error such as an illegal
  // address stays: the context is unusable after it, and every later call says so).
  cudaGetLastError();
  const char* f = file;
  for (const char* p = file; *p; ++p)
    if (*p == '/') f = p + 1;
  detail::throw_error(ErrorKind::Runtime, "CUDA error: ", cudaGetErrorString(err), " (", cudaGetErrorName(err),
                      ") from ", call, " at ", f, ":", line);
}

}  // namespace vt::cuda
