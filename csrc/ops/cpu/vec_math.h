#pragma once
// Float row kernels written with explicit SIMD vectors: exp and NaN-propagating max/min. See
// Note [Explicit vectors] in vec_math.cpp.
#include <cmath>
#include <cstdint>
#include <vector>

namespace vt::cpu {

// exp(x) within ~2 ulp over the normal range (exp_fast in vec_math.cpp); exp(-inf) == 0.
float exp_fast(float x);

// exp in the accumulation type: exp_fast for float, libm for double.
inline float exp_acc(float x) { return exp_fast(x); }
inline double exp_acc(double x) { return std::exp(x); }

// out[i] = exp(x[i] - shift) for i < n (out may be null); returns the sum of those values.
float exp_shift_f32(const float* x, float shift, float* out, int64_t n);
// out[j] = exp(x[j] - m[j]) for j < n.
void exp_sub_f32(const float* x, const float* m, float* out, int64_t n);
// The max (or min) of x[0..n): NaN if any is NaN (as torch.amax), -inf (+inf) when n == 0.
template <bool IsMax> float extreme_f32(const float* x, int64_t n);
// m[j] = extreme(m[j], x[j]) for j < n, NaN-propagating.
template <bool IsMax> void extreme_into_f32(float* m, const float* x, int64_t n);

// A per-thread scratch buffer of at least n elements (reused across calls).
template <class A> A* scratch(int64_t n) {
  thread_local std::vector<A> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

}  // namespace vt::cpu
