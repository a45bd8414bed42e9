#pragma once
// Device math on the opmath types (float, double, integers), named as in <cmath> so functors
// read like the CPU kernels' lambdas. float calls the float functions (expf, ...), never the
// double ones; no fast-math intrinsics, so results stay within CUDA's documented ulp bounds.
#include <cuda_runtime.h>

#include <type_traits>

namespace vt::cuda_kernels::math {

#define VT_CUDA_MATH_1(name, fname)                                      \
  __device__ __forceinline__ float name(float x) { return ::fname(x); } \
  __device__ __forceinline__ double name(double x) { return ::name(x); }
VT_CUDA_MATH_1(exp, expf)
VT_CUDA_MATH_1(log, logf)
VT_CUDA_MATH_1(sqrt, sqrtf)
VT_CUDA_MATH_1(sin, sinf)
VT_CUDA_MATH_1(cos, cosf)
VT_CUDA_MATH_1(tanh, tanhf)
VT_CUDA_MATH_1(erf, erff)
#undef VT_CUDA_MATH_1

__device__ __forceinline__ float pow(float x, float y) { return ::powf(x, y); }
__device__ __forceinline__ double pow(double x, double y) { return ::pow(x, y); }

}  // namespace vt::cuda_kernels::math
