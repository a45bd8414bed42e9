// CPU reduction kernels: sum, mean, amax, amin, max_dim, min_dim, argmax, argmin.
// The loops live in reduce_kernels.h; the layout is Note [Reduction layouts] in ops/reduction_util.h.
#include <memory>

#include "ops/cpu/reduce_kernels.h"
#include "ops/elementwise_util.h"
#include "ops/reduction_args.h"
#include "ops/reduction_util.h"

namespace vt::cpu {

namespace {

void check_cpu(const char* op, const Tensor& t) {
  VT_CHECK(t.device().is_cpu(), op, ": the CPU kernel got a tensor on ", t.device());
}

// sum and mean: the input is first converted to the result dtype (as torch does for dtype=).
Tensor sum_like(const char* op, const Tensor& self, const std::optional<IntList>& dim, bool keepdim, DType out_dtype,
                bool mean) {
  check_cpu(op, self);
  ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, op);
  DType compute = out_dtype == DType::Bool ? DType::Int64 : out_dtype;
  Tensor x;
  {
    NoGradGuard no_grad;
    x = cast_to(self, compute);
  }
  Tensor out = empty_tensor(rd.out_shape, compute, self.device());
  ReduceLayout L = plan_reduction(x, rd.reduced);
  VT_DISPATCH_NUMERIC(compute, op, [&]<class T>() {
    SumOp<T> sop;
    if (mean) { sop.divide = true; sop.divisor = acc_t<T>(rd.count); }
    run_reduction(L, out.data<T>(), sop);
  });
  if (out_dtype == DType::Bool) {
    NoGradGuard no_grad;
    return ops::to_dtype(out, DType::Bool);
  }
  return out;
}

Tensor sum_cpu(const Tensor& self, const std::optional<IntList>& dim, bool keepdim, std::optional<DType> dtype) {
  return sum_like("sum", self, dim, keepdim, sum_result_dtype(self.dtype(), dtype), false);
}

Tensor mean_cpu(const Tensor& self, const std::optional<IntList>& dim, bool keepdim, std::optional<DType> dtype) {
  return sum_like("mean", self, dim, keepdim, mean_result_dtype(self.dtype(), dtype), true);
}

template <bool IsMax>
Tensor amax_amin_cpu(const Tensor& self, const std::optional<IntList>& dim, bool keepdim) {
  const char* op = IsMax ? "amax" : "amin";
  check_cpu(op, self);
  ReductionDims rd = check_extremum_args(op, self, dim, keepdim);
  Tensor out = empty_tensor(rd.out_shape, self.dtype(), self.device());
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_ALL(self.dtype(), op, [&]<class T>() { run_reduction(L, out.data<T>(), MaxMinOp<T, IsMax>{}); });
  return out;
}

// The extreme value along the reduced elements and its first position (NaN counts as the
// extreme, as in torch). vals may be null (argmax).
template <class T, bool IsMax>
void arg_reduce(const ReduceLayout& L, T* vals, int64_t* idx) {
  using A = opmath_t<T>;
  const T* x = L.src.data<T>();
  int64_t O = L.O, R = L.R, I = L.I;
  if (O * I == 0) return;
  bool par = reduce_in_parallel(O * R * I);
  if (I == 1) {
    // Pass 1 finds the extreme value (vectorized); pass 2 its first position.
    std::unique_ptr<T[]> m(new T[static_cast<size_t>(O)]);  // not vector: vector<bool> has no data()
    inner_reduce(x, m.get(), O, R, MaxMinOp<T, IsMax>{});
#pragma omp parallel for schedule(static) if (par && O > 1)
    for (int64_t o = 0; o < O; ++o) {
      A target = A(m[o]);
      bool nan = target != target;
      const T* row = x + o * R;
      int64_t k = 0;
      for (; k < R - 1; ++k) {
        A v = A(row[k]);
        if (nan ? v != v : v == target) break;
      }
      idx[o] = k;
      if (vals) vals[o] = row[k];
    }
    return;
  }
  int64_t nblk = (I + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t t = 0; t < O * nblk; ++t) {
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    A best[kBlock];
    int64_t at[kBlock];
    const T* base = x + o * R * I + i0;
    for (int64_t j = 0; j < w; ++j) { best[j] = A(base[j]); at[j] = 0; }
    for (int64_t r = 1; r < R; ++r) {
      const T* row = base + r * I;
      for (int64_t j = 0; j < w; ++j) {
        A v = A(row[j]);
        bool take = (IsMax ? v > best[j] : v < best[j]) || (v != v && best[j] == best[j]);
        best[j] = take ? v : best[j];
        at[j] = take ? r : at[j];
      }
    }
    for (int64_t j = 0; j < w; ++j) {
      idx[o * I + i0 + j] = at[j];
      if (vals) vals[o * I + i0 + j] = T(best[j]);
    }
  }
}

template <bool IsMax>
std::tuple<Tensor, Tensor> max_min_dim_cpu(const Tensor& self, int64_t dim, bool keepdim) {
  const char* op = IsMax ? "max" : "min";
  check_cpu(op, self);
  ReductionDims rd = check_extremum_dim_args(op, self, dim, keepdim);
  Tensor values = empty_tensor(rd.out_shape, self.dtype(), self.device());
  Tensor indices = empty_tensor(rd.out_shape, DType::Int64, self.device());
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_ALL(self.dtype(), op, [&]<class T>() { arg_reduce<T, IsMax>(L, values.data<T>(), indices.data<int64_t>()); });
  return {values, indices};
}

// argmax without dim indexes the flattened tensor.
template <bool IsMax>
Tensor argmax_argmin_cpu(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  const char* op = IsMax ? "argmax" : "argmin";
  check_cpu(op, self);
  ReductionDims rd = check_arg_extremum_args(op, self, dim, keepdim);
  Tensor indices = empty_tensor(rd.out_shape, DType::Int64, self.device());
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_NUMERIC(self.dtype(), op, [&]<class T>() { arg_reduce<T, IsMax>(L, nullptr, indices.data<int64_t>()); });
  return indices;
}

}  // namespace

VT_REGISTER_KERNEL("vt::sum", CPU, sum_cpu);
VT_REGISTER_KERNEL("vt::mean", CPU, mean_cpu);
VT_REGISTER_KERNEL("vt::amax", CPU, amax_amin_cpu<true>);
VT_REGISTER_KERNEL("vt::amin", CPU, amax_amin_cpu<false>);
VT_REGISTER_KERNEL("vt::max_dim", CPU, max_min_dim_cpu<true>);
VT_REGISTER_KERNEL("vt::min_dim", CPU, max_min_dim_cpu<false>);
VT_REGISTER_KERNEL("vt::argmax", CPU, argmax_argmin_cpu<true>);
VT_REGISTER_KERNEL("vt::argmin", CPU, argmax_argmin_cpu<false>);

}  // namespace vt::cpu
