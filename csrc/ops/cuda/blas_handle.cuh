#pragma once
// cuBLAS handles for the calling thread, and the status check. See Note [cuBLAS handles].
#include <cublas_v2.h>

#include "core/error.h"
#include "cuda/stream.h"

namespace vt::cuda_kernels {

// Note [cuBLAS handles]
// A cuBLAS handle holds per-call state (stream, workspace, math mode) and must not be used by two
// threads at once, while creating one costs milliseconds. So each thread keeps one handle per
// device, taken from a process-wide pool the first time and put back when the thread exits
// (Python threads come and go; handles are never destroyed, as in PyTorch, because a thread may
// exit after the CUDA runtime has shut down). Every call first binds the handle to the current
// stream and to a workspace from our allocator on that stream: stream-ordered reuse makes freeing
// it right after the launch safe, and under CUDA graph capture it comes from the graph's private
// pool, so cuBLAS never allocates (or frees) memory on its own while a graph is captured.
cublasHandle_t blas_handle(int device);

}  // namespace vt::cuda_kernels

#define VT_CUBLAS_CHECK(call)                                                                         \
  do {                                                                                                \
    cublasStatus_t vt_cublas_st_ = (call);                                                            \
    VT_CHECK(vt_cublas_st_ == CUBLAS_STATUS_SUCCESS, "cuBLAS call ", #call, " failed: ",               \
             cublasGetStatusString(vt_cublas_st_), " (", __FILE__, ":", __LINE__, ")");                \
  } while (0)
