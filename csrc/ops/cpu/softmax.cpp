// CPU kernels of softmax, log_softmax and their backward helpers. See Note [Softmax loops].
#include "ops/cpu/reduce_kernels.h"
#include "ops/cpu/vec_math.h"
#include "ops/elementwise_util.h"
#include "ops/softmax_args.h"

namespace vt::cpu {
namespace {

// Note [Softmax loops]
// The input is made contiguous and viewed as [O, N, I] with N the softmax dim. For the last
// dim (I == 1) each row takes three passes: max, exp and sum (the exps are kept in the output),
// scale. For another dim, blocks of up to kBlock columns of the [N, I] slab are processed
// together, vectorized along I. float runs on explicit vectors with exp_fast (Note [Explicit
// vectors] in vec_math.h); 16-bit rows are converted to a float scratch row and take the same
// path; double (and 16-bit columns) run element by element. Rows or column blocks are split
// across OpenMP threads above kReduceGrain elements. The backward kernels follow the layout.


// One row of floats: y = softmax(x) or log_softmax(x). Explicit vectors (vec_math.h).
template <bool Log>
void softmax_row_f32(const float* __restrict__ x, float* __restrict__ y, int64_t N) {
  float m = extreme_f32<true>(x, N);
  if constexpr (Log) {
    // (x - m) - log(s), not x - (m + log(s)): the latter loses the digits of x - m when |m| is large.
    float log_s = std::log(exp_shift_f32(x, m, nullptr, N));
    for (int64_t i = 0; i < N; ++i) y[i] = (x[i] - m) - log_s;
  } else {
    float inv = 1.0f / exp_shift_f32(x, m, y, N);
    for (int64_t i = 0; i < N; ++i) y[i] *= inv;
  }
}

// A [N, w] block of columns (row stride I) of floats.
template <bool Log>
void softmax_cols_f32(const float* x, float* y, int64_t N, int64_t I, int64_t w) {
  float m[kBlock], s[kBlock], e[kBlock];
  for (int64_t j = 0; j < w; ++j) { m[j] = -INFINITY; s[j] = 0.0f; }
  for (int64_t n = 0; n < N; ++n) extreme_into_f32<true>(m, x + n * I, w);
  for (int64_t n = 0; n < N; ++n) {
    exp_sub_f32(x + n * I, m, e, w);
    for (int64_t j = 0; j < w; ++j) s[j] += e[j];
  }
  if constexpr (Log) {
    for (int64_t j = 0; j < w; ++j) s[j] = std::log(s[j]);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < w; ++j) y[n * I + j] = (x[n * I + j] - m[j]) - s[j];
  } else {
    for (int64_t j = 0; j < w; ++j) s[j] = 1.0f / s[j];
    for (int64_t n = 0; n < N; ++n) {
      exp_sub_f32(x + n * I, m, y + n * I, w);
      for (int64_t j = 0; j < w; ++j) y[n * I + j] *= s[j];
    }
  }
}

// Any dtype, one element at a time in the accumulation type (double, and the 16-bit floats
// over columns).
template <class T, bool Log>
void softmax_row_generic(const T* __restrict__ xr, T* __restrict__ yr, int64_t N) {
  using A = opmath_t<T>;
  A m = reduce_row(xr, N, MaxMinOp<T, true>{});
  if constexpr (Log) {
    A log_s = std::log(lane_sum<A>(N, [&](int64_t i) { return exp_acc(A(xr[i]) - m); }));
    for (int64_t i = 0; i < N; ++i) yr[i] = T((A(xr[i]) - m) - log_s);
  } else {
    A* __restrict__ e = std::is_same_v<A, T> ? reinterpret_cast<A*>(yr) : scratch<A>(N);
    for (int64_t i = 0; i < N; ++i) e[i] = exp_acc(A(xr[i]) - m);
    A inv = A(1) / reduce_row(e, N, SumOp<A>{});
    for (int64_t i = 0; i < N; ++i) yr[i] = T(e[i] * inv);
  }
}

template <class T, bool Log>
void softmax_cols_generic(const T* xb, T* yb, int64_t N, int64_t I, int64_t w) {
  using A = opmath_t<T>;
  A m[kBlock], s[kBlock];
  for (int64_t j = 0; j < w; ++j) { m[j] = lowest_value<A>(); s[j] = A(0); }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < w; ++j) {
      A v = A(xb[n * I + j]);
      m[j] = (v != v || v > m[j]) ? v : m[j];
    }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < w; ++j) s[j] += exp_acc(A(xb[n * I + j]) - m[j]);
  if constexpr (Log) {
    for (int64_t j = 0; j < w; ++j) s[j] = std::log(s[j]);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < w; ++j) yb[n * I + j] = T((A(xb[n * I + j]) - m[j]) - s[j]);
  } else {
    for (int64_t j = 0; j < w; ++j) s[j] = A(1) / s[j];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < w; ++j) yb[n * I + j] = T(exp_acc(A(xb[n * I + j]) - m[j]) * s[j]);
  }
}

template <class T, bool Log>
void softmax_forward(const T* x, T* y, DimLayout L) {
  using A = opmath_t<T>;
  int64_t N = L.N, I = L.I;
  if (I == 1) {
    for_tasks(L.O, L.O * N, [&](int64_t o) {
      const T* xr = x + o * N;
      T* yr = y + o * N;
      if constexpr (std::is_same_v<T, float>) {
        softmax_row_f32<Log>(xr, yr, N);
      } else if constexpr (std::is_same_v<A, float>) {
        // 16-bit rows go through the float kernel on a converted copy.
        float* buf = scratch<float>(2 * N);
        for (int64_t i = 0; i < N; ++i) buf[i] = float(xr[i]);
        softmax_row_f32<Log>(buf, buf + N, N);
        for (int64_t i = 0; i < N; ++i) yr[i] = T(buf[N + i]);
      } else {
        softmax_row_generic<T, Log>(xr, yr, N);
      }
    });
    return;
  }
  int64_t nblk = (I + kBlock - 1) / kBlock;
  for_tasks(L.O * nblk, L.O * N * I, [&](int64_t t) {
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    int64_t base = o * N * I + i0;
    if constexpr (std::is_same_v<T, float>) softmax_cols_f32<Log>(x + base, y + base, N, I, w);
    else softmax_cols_generic<T, Log>(x + base, y + base, N, I, w);
  });
}

// softmax:     gi = y * (g - sum(g * y))
// log_softmax: gi = g - exp(y) * sum(g)
template <class T, bool Log>
void softmax_backward(const T* g, const T* y, T* gi, DimLayout L) {
  using A = opmath_t<T>;
  constexpr bool kFloat = std::is_same_v<T, float>;
  int64_t N = L.N, I = L.I;
  if (I == 1) {
    for_tasks(L.O, L.O * N, [&](int64_t o) {
      const T* __restrict__ gr = g + o * N;
      const T* __restrict__ yr = y + o * N;
      T* __restrict__ out = gi + o * N;
      if constexpr (Log) {
        A s = lane_sum<A>(N, [&](int64_t i) { return A(gr[i]); });
        if constexpr (kFloat) {
          exp_shift_f32(yr, 0.0f, out, N);
          for (int64_t i = 0; i < N; ++i) out[i] = gr[i] - out[i] * s;
        } else {
          for (int64_t i = 0; i < N; ++i) out[i] = T(A(gr[i]) - exp_acc(A(yr[i])) * s);
        }
      } else {
        A s = lane_sum<A>(N, [&](int64_t i) { return A(gr[i]) * A(yr[i]); });
        for (int64_t i = 0; i < N; ++i) out[i] = T(A(yr[i]) * (A(gr[i]) - s));
      }
    });
    return;
  }
  int64_t nblk = (I + kBlock - 1) / kBlock;
  for_tasks(L.O * nblk, L.O * N * I, [&](int64_t t) {
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    int64_t base = o * N * I + i0;
    A s[kBlock];
    for (int64_t j = 0; j < w; ++j) s[j] = A(0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < w; ++j) {
        int64_t k = base + n * I + j;
        s[j] += Log ? A(g[k]) : A(g[k]) * A(y[k]);
      }
    for (int64_t n = 0; n < N; ++n) {
      int64_t k0 = base + n * I;
      if constexpr (Log && kFloat) {
        exp_shift_f32(y + k0, 0.0f, gi + k0, w);
        for (int64_t j = 0; j < w; ++j) gi[k0 + j] = g[k0 + j] - gi[k0 + j] * s[j];
      } else {
        for (int64_t j = 0; j < w; ++j) {
          int64_t k = k0 + j;
          gi[k] = Log ? T(A(g[k]) - exp_acc(A(y[k])) * s[j]) : T(A(y[k]) * (A(g[k]) - s[j]));
        }
      }
    }
  });
}

Tensor contiguous_nograd(const Tensor& t) {
  NoGradGuard no_grad;
  return ops::contiguous(t);
}

template <bool Log>
Tensor softmax_cpu(const Tensor& self, int64_t dim) {
  const char* op = Log ? "log_softmax" : "softmax";
  int64_t d = check_softmax_args(op, self, dim);
  Tensor x = contiguous_nograd(self);
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  if (self.numel() == 0) return out;
  DimLayout L = layout_around_dim(self.sizes(), self.dim() == 0 ? 0 : d);
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() { softmax_forward<T, Log>(x.data<T>(), out.data<T>(), L); });
  return out;
}

template <bool Log>
Tensor softmax_backward_cpu(const Tensor& grad, const Tensor& output, int64_t dim) {
  const char* op = Log ? "log_softmax_backward" : "softmax_backward";
  SoftmaxBackwardArgs a = prepare_softmax_backward(op, grad, output, dim);
  if (a.grad_input.numel() == 0) return a.grad_input;
  VT_DISPATCH_FLOATING(a.output.dtype(), op, [&]<class T>() {
    softmax_backward<T, Log>(a.grad.data<T>(), a.output.data<T>(), a.grad_input.data<T>(), a.layout);
  });
  return a.grad_input;
}

}  // namespace

VT_REGISTER_KERNEL("vt::softmax", CPU, softmax_cpu<false>);
VT_REGISTER_KERNEL("vt::log_softmax", CPU, softmax_cpu<true>);
VT_REGISTER_KERNEL("vt::softmax_backward", CPU, softmax_backward_cpu<false>);
VT_REGISTER_KERNEL("vt::log_softmax_backward", CPU, softmax_backward_cpu<true>);

}  // namespace vt::cpu
