#pragma once
// Floor and truncating division and torch's remainder, one definition for the CPU and CUDA kernels
// (div(rounding_mode='floor' | 'trunc'), floor_divide / //, remainder / %).
#include <math.h>

#include <type_traits>

#include "core/host_device.h"

namespace vt::rounding {

VT_HOST_DEVICE inline float fmod_of(float x, float y) { return ::fmodf(x, y); }
VT_HOST_DEVICE inline double fmod_of(double x, double y) { return ::fmod(x, y); }
VT_HOST_DEVICE inline float floor_of(float x) { return ::floorf(x); }
VT_HOST_DEVICE inline double floor_of(double x) { return ::floor(x); }
VT_HOST_DEVICE inline float trunc_of(float x) { return ::truncf(x); }
VT_HOST_DEVICE inline double trunc_of(double x) { return ::trunc(x); }
VT_HOST_DEVICE inline float copysign_of(float x, float y) { return ::copysignf(x, y); }
VT_HOST_DEVICE inline double copysign_of(double x, double y) { return ::copysign(x, y); }

// Integer x / y, y != 0. x / -1 is negation written on unsigned: INT_MIN / -1 traps on x86.
template <class M> VT_HOST_DEVICE M int_trunc_div(M x, M y) {
  if constexpr (std::is_signed_v<M>) {
    using U = std::make_unsigned_t<M>;
    return y == M(-1) ? M(U(0) - U(x)) : M(x / y);
  } else {
    return M(x / y);  // (bool: instantiated by the all-dtype dispatch, refused before any kernel runs)
  }
}

// Note [Floor division]
// Floating floor division is computed as torch's (c10's div_floor_floating): from fmod, so that
// floor(x / y) is not thrown off by the rounding of x / y (5.0 // 0.1 is 49, not 50), with the sign of
// a zero result that of x / y, and x / 0 as true division (inf or nan).
template <class M> VT_HOST_DEVICE M floor_div(M x, M y) {
  if constexpr (std::is_floating_point_v<M>) {
    if (y == M(0)) return x / y;
    M mod = fmod_of(x, y);
    M div = (x - mod) / y;
    if (mod != M(0) && (y < M(0)) != (mod < M(0))) div -= M(1);
    if (div == M(0)) return copysign_of(M(0), x / y);
    M floored = floor_of(div);
    return div - floored > M(0.5) ? floored + M(1) : floored;
  } else {
    if (y == M(-1)) return int_trunc_div(x, y);  // (x % -1 traps for INT_MIN too)
    M q = M(x / y);
    return (x % y != M(0) && (x < M(0)) != (y < M(0))) ? M(q - M(1)) : q;
  }
}

template <class M> VT_HOST_DEVICE M trunc_div(M x, M y) {
  if constexpr (std::is_floating_point_v<M>) return trunc_of(x / y);
  else return int_trunc_div(x, y);
}

// torch.remainder: the result takes the sign of the divisor (Python's %).
template <class M> VT_HOST_DEVICE M remainder(M x, M y) {
  if constexpr (std::is_floating_point_v<M>) {
    M mod = fmod_of(x, y);
    return (mod != M(0) && (y < M(0)) != (mod < M(0))) ? mod + y : mod;
  } else {
    M mod = y == M(-1) ? M(0) : M(x % y);
    return (mod != M(0) && (y < M(0)) != (mod < M(0))) ? M(mod + y) : mod;
  }
}

}  // namespace vt::rounding
