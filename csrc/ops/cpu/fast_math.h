#pragma once
// Branch-free float exp/tanh/sigmoid the compiler vectorizes inside elementwise loops (libm's
// calls block vectorization). exp_poly is the Cephes expf polynomial after range reduction by
// ln 2; relative error about 2e-7 over the normal float range, the denormals' own rounding below it.
#include <bit>
#include <cstdint>

namespace vt::cpu {

// always_inline: a kernel's loop vectorizes only if these are inlined into it, and GCC's inliner
// gives up on them inside the larger elementwise loops (gelu_backward's stayed scalar).
// The power of two 2^n is applied as two factors 2^(n/2) and 2^(n - n/2), each a normal float for n in
// [-159, 129]: so results below FLT_MIN come out as the denormals they are (down to 0: exp(-inf) is 0),
// and ones above FLT_MAX as inf, where a single factor 2^n clamped to the normal range gave FLT_MIN for
// exp(-100) and inf for exp(88.7). The clamp keeps n in that range.
[[gnu::always_inline]] inline float exp_poly(float x) {
  x = x < -110.0f ? -110.0f : (x > 89.0f ? 89.0f : x);
  float fx = x * 1.44269504088896341f;
  int32_t n = int32_t(fx + (fx >= 0.f ? 0.5f : -0.5f));  // round to nearest
  float fn = float(n);
  float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t half = n / 2;
  return y * std::bit_cast<float>(uint32_t(half + 127) << 23) * std::bit_cast<float>(uint32_t(n - half + 127) << 23);
}

// tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)); for tiny |x| the direct form keeps relative accuracy.
// The two forms are blended with a 0/1 weight (exact: one term is 0) rather than picked by `?:`,
// which GCC turns into a branch around the division, and a loop with a branch does not vectorize.
[[gnu::always_inline]] inline float tanh_fast(float x) {
  float ax = __builtin_fabsf(x);
  float t = 1.0f - 2.0f / (exp_poly(2.0f * ax) + 1.0f);
  float as = ax < 0.015625f ? ax : 0.015625f;  // bounded, so 0 * small is 0 (not nan) for infinite x
  float small = as * (1.0f - as * as * (1.0f / 3.0f));  // x - x^3/3 for |x| < 2^-6
  float w = ax < 0.015625f ? 1.0f : 0.0f;
  return __builtin_copysignf(w * small + (1.0f - w) * t, x);
}

inline float sigmoid_fast(float x) { return 1.0f / (1.0f + exp_poly(-x)); }

// erf(x) as an odd degree-13 polynomial over an even degree-8 one in x clamped to [-4, 4] (float's erf
// is +-1 beyond): the rational minimax fit Eigen and XLA use for float, a few ulp from libm's erff,
// which GCC cannot vectorize (gelu's exact form and its gradient call it per element).
[[gnu::always_inline]] inline float erf_rational(float x) {
  x = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = x2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

// Overloads so kernels written for opmath types pick the fast path for float only.
inline float vexp(float x) { return exp_poly(x); }
inline double vexp(double x) { return __builtin_exp(x); }
inline float vtanh(float x) { return tanh_fast(x); }
inline float verf(float x) { return erf_rational(x); }
inline double verf(double x) { return __builtin_erf(x); }
inline double vtanh(double x) { return __builtin_tanh(x); }

}  // namespace vt::cpu
