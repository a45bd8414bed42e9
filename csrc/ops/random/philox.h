#pragma once
// Counter-based random numbers (Philox4x32-10). See Note [Philox streams]. The number functions
// compile for the host and for CUDA devices and give the same bits on both
// (Note [Same numbers on every device]).
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/host_device.h"

namespace vt::random {

// Note [Philox streams]
// A generator is a (seed, offset) pair. An op that needs n numbers reserves n counters by
// advancing the offset atomically and computes number i from (seed, offset + i) alone, so the
// result does not depend on how the work is split across threads or devices, and two threads
// drawing concurrently never share counters. manual_seed sets the seed and resets the offset.
// CPU and CUDA ops draw from the same (host) generator.

void manual_seed(uint64_t seed);
uint64_t seed();
uint64_t offset();  // the next counter reserve() hands out
// Restores a (seed, offset) read earlier (get_rng_state / set_rng_state, checkpoints): the draws that
// followed the read follow again.
void set_state(uint64_t seed, uint64_t offset);
uint64_t reserve(uint64_t n);  // returns the first counter of a fresh range of n

VT_HOST_DEVICE inline void philox_round(uint32_t ctr[4], uint32_t key[2]) {
  uint64_t p0 = uint64_t(0xD2511F53u) * ctr[0];
  uint64_t p1 = uint64_t(0xCD9E8D57u) * ctr[2];
  uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  uint32_t r[4] = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  ctr[0] = r[0]; ctr[1] = r[1]; ctr[2] = r[2]; ctr[3] = r[3];
}

VT_HOST_DEVICE inline void philox(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  uint32_t ctr[4] = {uint32_t(counter), uint32_t(counter >> 32), 0, 0};
  uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
  for (int i = 0; i < 10; ++i) {
    philox_round(ctr, key);
    key[0] += 0x9E3779B9u;
    key[1] += 0xBB67AE85u;
  }
  out[0] = ctr[0]; out[1] = ctr[1]; out[2] = ctr[2]; out[3] = ctr[3];
}

VT_HOST_DEVICE inline uint64_t bits64(uint64_t seed, uint64_t counter) {
  uint32_t o[4];
  philox(seed, counter, o);
  return (uint64_t(o[0]) << 32) | o[1];
}
// Uniform in [0, 1).
VT_HOST_DEVICE inline double uniform(uint64_t seed, uint64_t counter) {
  return double(bits64(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}

// Note [Same numbers on every device]
// The integer steps above are exact everywhere. A normal number needs log and cos, and libm
// (host) and CUDA's math library may differ in the last bit, so normal() uses the polynomials
// below instead: they use only IEEE-exact operations (+ - * / sqrt and fused multiply-add, each
// written out so no compiler contracts or reorders them), hence round identically on any
// IEEE-754 double unit. Accuracy is within a few ulp of the true value.
namespace detail {

VT_HOST_DEVICE inline double fma_exact(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return ::fma(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

VT_HOST_DEVICE inline double sqrt_exact(double x) {
#if defined(__CUDA_ARCH__)
  return ::sqrt(x);  // IEEE round-to-nearest (nvcc's default -prec-sqrt=true)
#else
  return std::sqrt(x);
#endif
}

VT_HOST_DEVICE inline uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
  return uint64_t(__double_as_longlong(x));
#else
  uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
#endif
}
VT_HOST_DEVICE inline double double_of(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double((long long)u);
#else
  double x;
  std::memcpy(&x, &u, 8);
  return x;
#endif
}

// Natural log of a positive normal double: x = m * 2^e with m in [sqrt(1/2), sqrt(2)], then
// log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716, as an odd series in s.
VT_HOST_DEVICE inline double log_exact(double x) {
  uint64_t u = bits_of(x);
  int e = int((u >> 52) & 0x7ff) - 1023;
  double m = double_of((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double p = 1.0 / 25.0;
  p = fma_exact(p, s2, 1.0 / 23.0);
  p = fma_exact(p, s2, 1.0 / 21.0);
  p = fma_exact(p, s2, 1.0 / 19.0);
  p = fma_exact(p, s2, 1.0 / 17.0);
  p = fma_exact(p, s2, 1.0 / 15.0);
  p = fma_exact(p, s2, 1.0 / 13.0);
  p = fma_exact(p, s2, 1.0 / 11.0);
  p = fma_exact(p, s2, 1.0 / 9.0);
  p = fma_exact(p, s2, 1.0 / 7.0);
  p = fma_exact(p, s2, 1.0 / 5.0);
  p = fma_exact(p, s2, 1.0 / 3.0);
  double ls = fma_exact(2.0 * s * s2, p, 2.0 * s);  // 2s + 2s^3 * p
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double de = double(e);
  return fma_exact(de, ln2_hi, fma_exact(de, ln2_lo, ls));
}

// cos and sin of x in [0, pi/4] by Taylor series (Horner in x^2).
VT_HOST_DEVICE inline double cos_poly(double x) {
  double x2 = x * x;
  double p = 1.0 / 6402373705728000.0;           // 1/18!
  p = fma_exact(p, -x2, 1.0 / 20922789888000.0);  // 1/16!
  p = fma_exact(p, -x2, 1.0 / 87178291200.0);     // 1/14!
  p = fma_exact(p, -x2, 1.0 / 479001600.0);       // 1/12!
  p = fma_exact(p, -x2, 1.0 / 3628800.0);         // 1/10!
  p = fma_exact(p, -x2, 1.0 / 40320.0);           // 1/8!
  p = fma_exact(p, -x2, 1.0 / 720.0);             // 1/6!
  p = fma_exact(p, -x2, 1.0 / 24.0);              // 1/4!
  p = fma_exact(p, -x2, 1.0 / 2.0);
  return fma_exact(p, -x2, 1.0);
}
VT_HOST_DEVICE inline double sin_poly(double x) {
  double x2 = x * x;
  double p = 1.0 / 121645100408832000.0;          // 1/19!
  p = fma_exact(p, -x2, 1.0 / 355687428096000.0); // 1/17!
  p = fma_exact(p, -x2, 1.0 / 1307674368000.0);   // 1/15!
  p = fma_exact(p, -x2, 1.0 / 6227020800.0);      // 1/13!
  p = fma_exact(p, -x2, 1.0 / 39916800.0);        // 1/11!
  p = fma_exact(p, -x2, 1.0 / 362880.0);          // 1/9!
  p = fma_exact(p, -x2, 1.0 / 5040.0);            // 1/7!
  p = fma_exact(p, -x2, 1.0 / 120.0);             // 1/5!
  p = fma_exact(p, -x2, 1.0 / 6.0);
  p = fma_exact(p, -x2, 1.0);
  return x * p;
}

// cos(2 pi t) for t in [0, 1): reduced by exact subtractions to [0, 1/8] turns.
VT_HOST_DEVICE inline double cos_turns(double t) {
  double r = t >= 0.5 ? t - 1.0 : t;  // [-1/2, 1/2)
  double a = r < 0 ? -r : r;          // cos is even
  double sign = 1.0;
  if (a > 0.25) { a = 0.5 - a; sign = -1.0; }  // cos(2 pi a) = -cos(2 pi (1/2 - a))
  const double two_pi = 6.283185307179586;
  if (a > 0.125) return sign * sin_poly((0.25 - a) * two_pi);  // cos(2 pi a) = sin(2 pi (1/4 - a))
  return sign * cos_poly(a * two_pi);
}

}  // namespace detail

// Standard normal by Box-Muller on two 32-bit draws of the same counter.
VT_HOST_DEVICE inline double normal(uint64_t seed, uint64_t counter) {
  uint32_t o[4];
  philox(seed, counter, o);
  double u1 = (double(o[0]) + 1.0) * (1.0 / 4294967297.0);  // (0, 1]
  double u2 = double(o[1]) * (1.0 / 4294967296.0);          // [0, 1)
  return detail::sqrt_exact(-2.0 * detail::log_exact(u1)) * detail::cos_turns(u2);
}

}  // namespace vt::random
