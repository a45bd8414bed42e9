#pragma once
// Math functions the compiler can vectorize. glibc's expf is a scalar call, so softmax-style
// loops would run one element at a time; exp_fast is branch-free and inlines into SIMD code.
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace vt::cpu {

// exp(x) for float within ~2 ulp over the normal range (Cephes expf: x = n*ln2 + r with
// |r| <= ln2/2, a degree-6 polynomial for exp(r), 2^n built in the exponent bits). Results
// below the smallest normal float flush to 0 (so exp(-inf) == 0, as masked softmax needs);
// above the largest float give inf; NaN stays NaN.
inline float exp_fast(float x) {
  constexpr float kLo = -87.33654475f, kHi = 88.72283905f;  // ln(FLT_MIN), ln(FLT_MAX)
  float xc = x < kLo ? kLo : (x > kHi ? kHi : x);
  float fn = xc * 1.44269504088896341f;
  int32_t n = int32_t(fn + (fn >= 0.0f ? 0.5f : -0.5f));
  float nf = float(n);
  float r = xc - nf * 0.693359375f - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float er = p * r * r + r + 1.0f;
  // 2^n as 2^(n/2) * 2^(n - n/2) so both factors stay normal for n in [-126, 128].
  int32_t n1 = n >> 1, n2 = n - n1;
  float y = er * std::bit_cast<float>((n1 + 127) << 23) * std::bit_cast<float>((n2 + 127) << 23);
  y = x < kLo ? 0.0f : y;
  y = x > kHi ? INFINITY : y;
  return x != x ? x : y;
}

// exp in the accumulation type: the fast float path, libm for double.
inline float exp_acc(float x) { return exp_fast(x); }
inline double exp_acc(double x) { return std::exp(x); }

// A per-thread scratch buffer of at least n elements (reused across calls).
template <class A> A* scratch(int64_t n) {
  thread_local std::vector<A> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

}  // namespace vt::cpu
