// Float row kernels on explicit SIMD vectors, for SSE and (chosen at run time) AVX2.
#include "ops/cpu/vec_math.h"

#include <algorithm>
#include <bit>
#include <cstring>

// The width-8 helpers return 32-byte vectors, which GCC notes would be returned differently
// without AVX; they are always inlined into the AVX2 entry points, never called across an ABI.
// (Vector arguments are taken by reference for the same reason.)
#pragma GCC diagnostic ignored "-Wpsabi"

namespace vt::cpu {

// Note [Explicit vectors]
// Under GCC's default -ftrapping-math a floating point compare-and-select is not if-converted,
// so loops computing a max or exp's range checks stay scalar (and glibc's expf is a scalar
// call). These kernels use GCC vector extensions instead, written once over a width W: W = 4 (one
// SSE register, the x86-64 baseline) always works; W = 8 is compiled for AVX2+FMA and chosen at
// run time when the CPU has both. Every helper is always_inline so that it is compiled inside
// the entry point's target. A row's tail is padded into one more vector, so every element goes
// through the same arithmetic.

namespace {

#define VT_VINLINE __attribute__((always_inline)) inline

// One specialization per width: GCC mishandles vector_size with a template-dependent size.
template <int W> struct VecTypes;
template <> struct VecTypes<4> {
  typedef float F __attribute__((vector_size(16)));
  typedef int32_t I __attribute__((vector_size(16)));
  typedef uint32_t U __attribute__((vector_size(16)));
};
template <> struct VecTypes<8> {
  typedef float F __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
  typedef uint32_t U __attribute__((vector_size(32)));
};

template <int W>
struct Vec {
  using F = typename VecTypes<W>::F;
  using I = typename VecTypes<W>::I;
  using U = typename VecTypes<W>::U;
  static VT_VINLINE F load(const float* p) { F v; std::memcpy(&v, p, sizeof v); return v; }
  static VT_VINLINE void store(float* p, const F& v) { std::memcpy(p, &v, sizeof v); }
  static VT_VINLINE F splat(float x) { return F{} + x; }
  // The first n (< W) elements of p; the other lanes hold `fill`.
  static VT_VINLINE F load_tail(const float* p, int64_t n, float fill) {
    F v = splat(fill);
    for (int64_t i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static VT_VINLINE void store_tail(float* p, const F& v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) p[i] = v[i];
  }
  static VT_VINLINE float sum(const F& v) {
    float s = 0.0f;
    for (int i = 0; i < W; ++i) s += v[i];
    return s;
  }
};

// exp(x), Cephes expf: x = n*ln2 + r with |r| <= ln2/2, a degree-6 polynomial for exp(r), 2^n
// built in the exponent bits; n is rounded by adding 1.5*2^23. Outside [ln(FLT_MIN),
// ln(FLT_MAX)] the arithmetic is meaningless and the result is replaced by 0 or inf; NaN
// propagates through the arithmetic.
template <int W>
VT_VINLINE typename Vec<W>::F vexp(const typename Vec<W>::F& x) {
  using V = Vec<W>;
  using F = typename V::F;
  using I = typename V::I;
  using U = typename V::U;
  constexpr float kShifter = 12582912.0f;
  const F lo = V::splat(-87.33654475f), hi = V::splat(88.72283905f);
  F t = x * 1.44269504088896341f + kShifter;
  F nf = t - kShifter;
  U n = std::bit_cast<U>(t) - std::bit_cast<uint32_t>(kShifter);
  F r = x - nf * 0.693359375f - nf * -2.12194440e-4f;
  F p = V::splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  F er = p * r * r + r + 1.0f;
  // 2^n as 2^(n/2) * 2^(n - n/2) so both factors stay normal for n in [-126, 128].
  U n1 = std::bit_cast<U>(std::bit_cast<I>(n) >> 1), n2 = n - n1;
  F y = er * std::bit_cast<F>((n1 + 127u) << 23) * std::bit_cast<F>((n2 + 127u) << 23);
  y = x < lo ? F{} : y;
  return x > hi ? V::splat(INFINITY) : y;
}

template <bool IsMax, int W>
VT_VINLINE typename Vec<W>::F vextreme(const typename Vec<W>::F& acc, const typename Vec<W>::F& x) {
  return ((x != x) | (IsMax ? x > acc : x < acc)) ? x : acc;
}
template <bool IsMax>
VT_VINLINE float sextreme(float acc, float x) {
  return (x != x || (IsMax ? x > acc : x < acc)) ? x : acc;
}

template <int W>
VT_VINLINE float exp_shift_impl(const float* x, float shift, float* out, int64_t n) {
  using V = Vec<W>;
  typename V::F s0{}, s1{}, sh = V::splat(shift);
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    auto e0 = vexp<W>(V::load(x + i) - sh), e1 = vexp<W>(V::load(x + i + W) - sh);
    if (out) { V::store(out + i, e0); V::store(out + i + W, e1); }
    s0 += e0;
    s1 += e1;
  }
  for (; i < n; i += W) {
    int64_t k = std::min<int64_t>(W, n - i);
    auto e = vexp<W>(V::load_tail(x + i, k, -INFINITY) - sh);  // padding lanes give exp(-inf) = 0
    if (out) V::store_tail(out + i, e, k);
    s0 += e;
  }
  return V::sum(s0 + s1);
}

template <int W>
VT_VINLINE void exp_sub_impl(const float* x, const float* m, float* out, int64_t n) {
  using V = Vec<W>;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(out + i, vexp<W>(V::load(x + i) - V::load(m + i)));
  if (i < n) V::store_tail(out + i, vexp<W>(V::load_tail(x + i, n - i, 0.0f) - V::load_tail(m + i, n - i, 0.0f)), n - i);
}

template <bool IsMax, int W>
VT_VINLINE float extreme_impl(const float* x, int64_t n) {
  using V = Vec<W>;
  const float init = IsMax ? -INFINITY : INFINITY;
  typename V::F a0 = V::splat(init), a1 = a0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    a0 = vextreme<IsMax, W>(a0, V::load(x + i));
    a1 = vextreme<IsMax, W>(a1, V::load(x + i + W));
  }
  if (i + W <= n) { a0 = vextreme<IsMax, W>(a0, V::load(x + i)); i += W; }
  if (i < n) a1 = vextreme<IsMax, W>(a1, V::load_tail(x + i, n - i, init));
  a0 = vextreme<IsMax, W>(a0, a1);
  float m = init;
  for (int l = 0; l < W; ++l) m = sextreme<IsMax>(m, a0[l]);
  return m;
}

template <bool IsMax, int W>
VT_VINLINE void extreme_into_impl(float* m, const float* x, int64_t n) {
  using V = Vec<W>;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(m + i, vextreme<IsMax, W>(V::load(m + i), V::load(x + i)));
  for (; i < n; ++i) m[i] = sextreme<IsMax>(m[i], x[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define VT_AVX2_CLONES 1
#define VT_AVX2 __attribute__((target("avx2,fma")))
VT_AVX2 float exp_shift_avx2(const float* x, float shift, float* out, int64_t n) { return exp_shift_impl<8>(x, shift, out, n); }
VT_AVX2 void exp_sub_avx2(const float* x, const float* m, float* out, int64_t n) { exp_sub_impl<8>(x, m, out, n); }
template <bool IsMax> VT_AVX2 float extreme_avx2(const float* x, int64_t n) { return extreme_impl<IsMax, 8>(x, n); }
template <bool IsMax> VT_AVX2 void extreme_into_avx2(float* m, const float* x, int64_t n) { extreme_into_impl<IsMax, 8>(m, x, n); }

bool use_avx2() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}
#endif

}  // namespace

float exp_fast(float x) { return vexp<4>(Vec<4>::splat(x))[0]; }

float exp_shift_f32(const float* x, float shift, float* out, int64_t n) {
#ifdef VT_AVX2_CLONES
  if (use_avx2()) return exp_shift_avx2(x, shift, out, n);
#endif
  return exp_shift_impl<4>(x, shift, out, n);
}

void exp_sub_f32(const float* x, const float* m, float* out, int64_t n) {
#ifdef VT_AVX2_CLONES
  if (use_avx2()) return exp_sub_avx2(x, m, out, n);
#endif
  exp_sub_impl<4>(x, m, out, n);
}

template <bool IsMax>
float extreme_f32(const float* x, int64_t n) {
#ifdef VT_AVX2_CLONES
  if (use_avx2()) return extreme_avx2<IsMax>(x, n);
#endif
  return extreme_impl<IsMax, 4>(x, n);
}

template <bool IsMax>
void extreme_into_f32(float* m, const float* x, int64_t n) {
#ifdef VT_AVX2_CLONES
  if (use_avx2()) return extreme_into_avx2<IsMax>(m, x, n);
#endif
  extreme_into_impl<IsMax, 4>(m, x, n);
}

template float extreme_f32<true>(const float*, int64_t);
template float extreme_f32<false>(const float*, int64_t);
template void extreme_into_f32<true>(float*, const float*, int64_t);
template void extreme_into_f32<false>(float*, const float*, int64_t);

}  // namespace vt::cpu
