#pragma once
// VT_HOST_DEVICE marks functions compiled for both the CPU and CUDA kernels (same bits on both).
#if defined(__CUDACC__)
#define VT_HOST_DEVICE __host__ __device__
#else
#define VT_HOST_DEVICE
#endif
