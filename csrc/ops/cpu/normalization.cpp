// CPU kernels of layer_norm and rms_norm: fused forward (with statistics) and fused backward,
// registered as vt::native_layer_norm / native_rms_norm / native_norm_backward (the autograd
// kernels call those) and as the plain vt::layer_norm / rms_norm forwards.
#include <omp.h>

#include <array>
#include <tuple>
#include <vector>

#include "ops/cpu/reduce_kernels.h"
#include "ops/elementwise_util.h"
#include "ops/normalization_args.h"

namespace vt::cpu {
namespace {

// Note [Normalization kernels]
// The input is made contiguous and viewed as [rows, M], M = numel(normalized_shape); each row is
// normalized on its own, in float (double for float64). layer_norm takes the mean and then the
// variance in a second pass over the row (still in cache; no cancellation as with E[x^2] -
// E[x]^2); rms_norm the mean of squares. Weight and bias are converted once to the accumulation
// type (ones / zeros when absent). With xhat = (x - mean) * rstd and dxhat = dy * w, the backward is
//   layer_norm: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   rms_norm:   dx = rstd * (dxhat - xhat * mean(dxhat * xhat))
//   dw = sum over rows of dy * xhat,  db = sum over rows of dy
// Rows are split across threads in contiguous chunks; each thread accumulates dw and db in its
// own buffer and the buffers are added in thread order.

struct NormForward {
  Tensor out;
  Tensor mean;  // per row, in norm_stats_dtype; undefined for rms_norm
  Tensor rstd;  // per row: 1 / sqrt(var + eps) (layer_norm) or 1 / sqrt(mean(x^2) + eps) (rms_norm)
};

void check_cpu(const char* op, const Tensor& input) {
  VT_CHECK(input.device().is_cpu(), op, ": the CPU kernel got a tensor on ", input.device());
}

// The values of an optional per-feature tensor in the accumulation type, or `fill` when absent.
template <class T>
std::vector<opmath_t<T>> per_feature(const std::optional<Tensor>& t, int64_t M, double fill) {
  using A = opmath_t<T>;
  std::vector<A> v(static_cast<size_t>(M), A(fill));
  if (!t) return v;
  NoGradGuard no_grad;
  Tensor c = ops::contiguous(cast_to(*t, CppType<T>::value));
  const T* p = c.data<T>();
  for (int64_t i = 0; i < M; ++i) v[size_t(i)] = A(p[i]);
  return v;
}

template <class T, bool Centered>
void norm_forward_kernel(const T* x, T* y, opmath_t<T>* mean, opmath_t<T>* rstd, const opmath_t<T>* w,
                         const opmath_t<T>* b, NormShape s, opmath_t<T> eps) {
  using A = opmath_t<T>;
  int64_t M = s.M;
  A inv_m = A(1) / A(M);
  for_tasks(s.rows, s.rows * M, [&](int64_t r) {
    const T* __restrict__ xr = x + r * M;
    T* __restrict__ yr = y + r * M;
    A mu = A(0), rs;
    if constexpr (Centered) {
      mu = lane_sum<A>(M, [&](int64_t i) { return A(xr[i]); }) * inv_m;
      A var = lane_sum<A>(M, [&](int64_t i) { A d = A(xr[i]) - mu; return d * d; }) * inv_m;
      rs = A(1) / std::sqrt(var + eps);
      mean[r] = mu;
    } else {
      A ms = lane_sum<A>(M, [&](int64_t i) { A v = A(xr[i]); return v * v; }) * inv_m;
      rs = A(1) / std::sqrt(ms + eps);
    }
    rstd[r] = rs;
    for (int64_t i = 0; i < M; ++i) yr[i] = T((A(xr[i]) - mu) * rs * w[i] + b[i]);
  });
}

template <class T, bool Centered>
void norm_backward_kernel(const T* dy, const T* x, const opmath_t<T>* mean, const opmath_t<T>* rstd,
                          const opmath_t<T>* w, T* dx, opmath_t<T>* dw, opmath_t<T>* db, NormShape s) {
  using A = opmath_t<T>;
  int64_t rows = s.rows, M = s.M;
  A inv_m = A(1) / A(M);
  bool par = reduce_in_parallel(rows * M) && rows > 1;
  int nt = par ? omp_get_max_threads() : 1;
  // Per-thread dw / db partials (zero-initialized); dw / db themselves receive their sum.
  std::vector<A> dw_part(dw ? size_t(nt * M) : 0, A(0)), db_part(db ? size_t(nt * M) : 0, A(0));
#pragma omp parallel num_threads(nt) if (par)
  {
    int t = omp_get_thread_num(), nthreads = omp_get_num_threads();
    int64_t r0 = rows * t / nthreads, r1 = rows * (t + 1) / nthreads;
    A* __restrict__ dwt = dw ? dw_part.data() + t * M : nullptr;
    A* __restrict__ dbt = db ? db_part.data() + t * M : nullptr;
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict__ dyr = dy + r * M;
      const T* __restrict__ xr = x + r * M;
      A mu = Centered ? mean[r] : A(0), rs = rstd[r];
      if (dx) {
        A c1 = Centered ? lane_sum<A>(M, [&](int64_t i) { return A(dyr[i]) * w[i]; }) * inv_m : A(0);
        A c2 = lane_sum<A>(M, [&](int64_t i) { return A(dyr[i]) * w[i] * ((A(xr[i]) - mu) * rs); }) * inv_m;
        T* __restrict__ dxr = dx + r * M;
        for (int64_t i = 0; i < M; ++i) {
          A xhat = (A(xr[i]) - mu) * rs;
          dxr[i] = T(rs * (A(dyr[i]) * w[i] - c1 - xhat * c2));
        }
      }
      if (dwt)
        for (int64_t i = 0; i < M; ++i) dwt[i] += A(dyr[i]) * ((A(xr[i]) - mu) * rs);
      if (dbt)
        for (int64_t i = 0; i < M; ++i) dbt[i] += A(dyr[i]);
    }
  }
  for (auto [out, part] : {std::pair{dw, &dw_part}, std::pair{db, &db_part}}) {
    if (!out) continue;
    for (int64_t i = 0; i < M; ++i) out[i] = (*part)[size_t(i)];
    for (int t = 1; t < nt; ++t)
      for (int64_t i = 0; i < M; ++i) out[i] += (*part)[size_t(t * M + i)];
  }
}

template <bool Centered>
NormForward norm_forward(const char* op, const Tensor& input, const IntList& normalized_shape,
                         const std::optional<Tensor>& weight, const std::optional<Tensor>& bias, double eps) {
  check_cpu(op, input);
  NormShape s = check_norm_args(op, input, normalized_shape, weight, bias);
  Tensor x;
  {
    NoGradGuard no_grad;
    x = ops::contiguous(input);
  }
  NormForward f;
  f.out = empty_tensor(input.sizes(), input.dtype(), input.device());
  DType sd = norm_stats_dtype(input.dtype());
  if (Centered) f.mean = empty_tensor({s.rows}, sd, input.device());
  f.rstd = empty_tensor({s.rows}, sd, input.device());
  VT_DISPATCH_FLOATING(input.dtype(), op, [&]<class T>() {
    using A = opmath_t<T>;
    std::vector<A> w = per_feature<T>(weight, s.M, 1.0), b = per_feature<T>(bias, s.M, 0.0);
    norm_forward_kernel<T, Centered>(x.data<T>(), f.out.data<T>(), Centered ? f.mean.data<A>() : nullptr, f.rstd.data<A>(),
                                     w.data(), b.data(), s, A(eps));
  });
  return f;
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_cpu(const Tensor& input, const IntList& normalized_shape,
                                                         const std::optional<Tensor>& weight,
                                                         const std::optional<Tensor>& bias, double eps) {
  NormForward f = norm_forward<true>("layer_norm", input, normalized_shape, weight, bias, eps);
  return {f.out, f.mean, f.rstd};
}

std::tuple<Tensor, Tensor> native_rms_norm_cpu(const Tensor& input, const IntList& normalized_shape,
                                               const std::optional<Tensor>& weight, std::optional<double> eps) {
  NormForward f = norm_forward<false>("rms_norm", input, normalized_shape, weight, std::nullopt,
                                      eps ? *eps : default_rms_norm_eps(input.dtype()));
  return {f.out, f.rstd};
}

Tensor layer_norm_cpu(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, double eps) {
  return std::get<0>(native_layer_norm_cpu(input, normalized_shape, weight, bias, eps));
}
Tensor rms_norm_cpu(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                    std::optional<double> eps) {
  return std::get<0>(native_rms_norm_cpu(input, normalized_shape, weight, eps));
}

std::tuple<Tensor, Tensor, Tensor> native_norm_backward_cpu(const Tensor& grad_out, const Tensor& input,
                                                            const std::optional<Tensor>& mean_opt, const Tensor& rstd,
                                                            const std::optional<Tensor>& weight, const IntList& normalized_shape,
                                                            bool input_grad, bool weight_grad, bool bias_grad) {
  Tensor mean = mean_opt.value_or(Tensor());
  bool centered = mean.defined();
  std::array<bool, 3> need = {input_grad, weight_grad, bias_grad};
  const char* op = centered ? "layer_norm_backward" : "rms_norm_backward";
  check_cpu(op, input);
  NormShape s = check_norm_backward_args(op, grad_out, input, normalized_shape, weight, mean_opt, rstd);
  Tensor dy, x;
  {
    NoGradGuard no_grad;
    dy = ops::contiguous(cast_to(grad_out, input.dtype()));
    x = ops::contiguous(input);
  }
  DType sd = norm_stats_dtype(input.dtype());
  Tensor dx = need[0] ? empty_tensor(input.sizes(), input.dtype(), input.device()) : Tensor();
  // dw / db are accumulated in the stats dtype and converted to the input dtype at the end.
  Tensor dw = need[1] ? empty_tensor(normalized_shape, sd, input.device()) : Tensor();
  Tensor db = need[2] && centered ? empty_tensor(normalized_shape, sd, input.device()) : Tensor();
  VT_DISPATCH_FLOATING(input.dtype(), op, [&]<class T>() {
    using A = opmath_t<T>;
    std::vector<A> w = per_feature<T>(weight, s.M, 1.0);
    auto run = [&]<bool C>() {
      norm_backward_kernel<T, C>(dy.data<T>(), x.data<T>(), C ? mean.data<A>() : nullptr, rstd.data<A>(), w.data(),
                                 dx.defined() ? dx.data<T>() : nullptr, dw.defined() ? dw.data<A>() : nullptr,
                                 db.defined() ? db.data<A>() : nullptr, s);
    };
    if (centered) run.template operator()<true>();
    else run.template operator()<false>();
  });
  NoGradGuard no_grad;
  if (dw.defined()) dw = cast_to(dw, input.dtype());
  if (db.defined()) db = cast_to(db, input.dtype());
  return {dx, dw, db};
}

}  // namespace

VT_REGISTER_KERNEL("vt::layer_norm", CPU, layer_norm_cpu);
VT_REGISTER_KERNEL("vt::rms_norm", CPU, rms_norm_cpu);
VT_REGISTER_KERNEL("vt::native_layer_norm", CPU, native_layer_norm_cpu);
VT_REGISTER_KERNEL("vt::native_rms_norm", CPU, native_rms_norm_cpu);
VT_REGISTER_KERNEL("vt::native_norm_backward", CPU, native_norm_backward_cpu);

}  // namespace vt::cpu
