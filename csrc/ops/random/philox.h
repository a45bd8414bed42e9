#pragma once
// Counter-based random numbers (Philox4x32-10). See Note [Philox streams].
#include <atomic>
#include <cmath>
#include <cstdint>

namespace vt::random {

// Note [Philox streams]
// A generator is a (seed, offset) pair. An op that needs n numbers reserves n counters by
// advancing the offset atomically and computes number i from (seed, offset + i) alone, so the
// result does not depend on how the work is split across threads or devices, and two threads
// drawing concurrently never share counters. manual_seed sets the seed and resets the offset.

void manual_seed(uint64_t seed);
uint64_t seed();
uint64_t reserve(uint64_t n);  // returns the first counter of a fresh range of n

inline void philox_round(uint32_t ctr[4], uint32_t key[2]) {
  uint64_t p0 = uint64_t(0xD2511F53u) * ctr[0];
  uint64_t p1 = uint64_t(0xCD9E8D57u) * ctr[2];
  uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  uint32_t r[4] = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  ctr[0] = r[0]; ctr[1] = r[1]; ctr[2] = r[2]; ctr[3] = r[3];
}

inline void philox(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  uint32_t ctr[4] = {uint32_t(counter), uint32_t(counter >> 32), 0, 0};
  uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
  for (int i = 0; i < 10; ++i) {
    philox_round(ctr, key);
    key[0] += 0x9E3779B9u;
    key[1] += 0xBB67AE85u;
  }
  out[0] = ctr[0]; out[1] = ctr[1]; out[2] = ctr[2]; out[3] = ctr[3];
}

inline uint64_t bits64(uint64_t seed, uint64_t counter) {
  uint32_t o[4];
  philox(seed, counter, o);
  return (uint64_t(o[0]) << 32) | o[1];
}
// Uniform in [0, 1).
inline double uniform(uint64_t seed, uint64_t counter) {
  return double(bits64(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}
// Standard normal by Box-Muller on two 32-bit draws of the same counter.
inline double normal(uint64_t seed, uint64_t counter) {
  uint32_t o[4];
  philox(seed, counter, o);
  double u1 = (double(o[0]) + 1.0) * (1.0 / 4294967297.0);
  double u2 = double(o[1]) * (1.0 / 4294967296.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace vt::random
