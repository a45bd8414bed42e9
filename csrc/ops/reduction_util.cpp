#include "ops/reduction_util.h"

#include "core/checked_math.h"
#include "ops/view/view_ops.h"

namespace vt {

ReductionDims reduction_dims(IntArrayRef sizes, const std::optional<IntList>& dim, bool keepdim, const char* op) {
  int64_t n = int64_t(sizes.size());
  ReductionDims rd;
  rd.reduced.assign(size_t(n), false);
  bool all = !dim || dim->empty();
  if (all) {
    rd.reduced.assign(size_t(n), true);
  } else {
    std::vector<bool> seen(size_t(std::max<int64_t>(n, 1)), false);
    for (int64_t d : *dim) {
      int64_t w = wrap_dim(d, n, op);
      VT_CHECK(!seen[size_t(w)], op, ": dim ", w, " appears multiple times in the list of dims");
      seen[size_t(w)] = true;
      if (n > 0) rd.reduced[size_t(w)] = true;
    }
  }
  bool overflow = false;
  for (int64_t i = 0; i < n; ++i) {
    bool r = rd.reduced[size_t(i)];
    rd.kept_shape.push_back(r ? 1 : sizes[i]);
    if (r) overflow |= mul_overflows(rd.count, sizes[i], &rd.count);
    if (!r || keepdim) rd.out_shape.push_back(r ? 1 : sizes[i]);
  }
  // Only an input with no element gets here (Note [Shape overflow]): a kept dim is 0, so the
  // result is empty and count unused, or a reduced one is, so count is 0.
  if (overflow) rd.count = 0;
  return rd;
}

IntList reduced_dim_list(const ReductionDims& rd) {
  IntList dims;
  for (size_t i = 0; i < rd.reduced.size(); ++i)
    if (rd.reduced[i]) dims.push_back(int64_t(i));
  return dims;
}

void check_nonempty_reduction(IntArrayRef sizes, const ReductionDims& rd, bool dim_given, const char* op) {
  if (numel_of(sizes) != 0) return;
  VT_CHECK(dim_given, op, ": expected reduction dim to be specified for an input with no elements (shape ",
           shape_str(sizes), "); specify the reduction dim with the 'dim' argument");
  for (size_t i = 0; i < sizes.size(); ++i)
    VT_CHECK_INDEX(!(rd.reduced[i] && sizes[i] == 0), op, ": expected reduction dim ", i,
                   " to have non-zero size, but the input has shape ", shape_str(sizes));
}

ReduceLayout plan_reduction(const Tensor& x, const std::vector<bool>& reduced) {
  NoGradGuard no_grad;  // a copy made here is an implementation detail, never part of a graph
  int64_t n = x.dim();
  if (x.numel() == 0) {
    // Nothing is read: [O, 0, 1], O the result's numel (0 when a kept dim is 0). Products of the
    // other sizes may overflow (Note [Shape overflow]).
    DimVector kept;
    for (int64_t d = 0; d < n; ++d)
      if (!reduced[size_t(d)]) kept.push_back(x.sizes()[d]);
    bool empty = std::find(kept.begin(), kept.end(), 0) != kept.end();
    return {x, empty ? 0 : numel_of(kept), 0, 1};
  }
  if (x.is_contiguous()) {
    // Size-1 dims don't matter; the rest must read kept* reduced* kept*.
    enum { Before, In, After } state = Before;
    bool one_block = true;
    int64_t O = 1, R = 1, I = 1;
    for (int64_t d = 0; d < n && one_block; ++d) {
      int64_t s = x.sizes()[d];
      if (s == 1) continue;
      if (reduced[size_t(d)]) {
        one_block = state != After;
        state = In;
        R *= s;
      } else {
        if (state == In) state = After;
        (state == Before ? O : I) *= s;
      }
    }
    if (one_block) return {x, O, R, I};
  }
  IntList kept_first, reduced_first;
  int64_t K = 1, R = 1;
  for (int64_t d = 0; d < n; ++d) {
    if (reduced[size_t(d)]) { R *= x.sizes()[d]; reduced_first.push_back(d); }
    else { K *= x.sizes()[d]; kept_first.push_back(d); }
  }
  IntList kr = kept_first, rk = reduced_first;
  kr.insert(kr.end(), reduced_first.begin(), reduced_first.end());
  rk.insert(rk.end(), kept_first.begin(), kept_first.end());
  Tensor a = views::permute(x, kr);
  if (a.is_contiguous()) return {a, K, R, 1};
  Tensor b = views::permute(x, rk);
  if (b.is_contiguous()) return {b, 1, R, K};
  return {ops::clone(a), K, R, 1};
}

DType sum_result_dtype(DType self, std::optional<DType> dtype) {
  return dtype ? *dtype : is_integral(self, true) ? DType::Int64 : self;
}

DType mean_result_dtype(DType self, std::optional<DType> dtype) {
  DType out = dtype ? *dtype : self;
  VT_CHECK_TYPE(dtype || is_floating(out), "mean: could not infer the output dtype: the input dtype must be floating "
                "point, got ", self, " (pass dtype= to choose one)");
  VT_CHECK_TYPE(is_floating(out), "mean: dtype must be a floating point dtype, got ", out);
  return out;
}

DimLayout layout_around_dim(IntArrayRef sizes, int64_t d) {
  DimLayout L;
  for (int64_t i = 0; i < int64_t(sizes.size()); ++i) {
    if (i < d) L.O *= sizes[i];
    else if (i == d) L.N = sizes[i];
    else L.I *= sizes[i];
  }
  return L;
}

LossReduction parse_loss_reduction(const std::string& reduction, const char* op) {
  if (reduction == "mean") return LossReduction::Mean;
  if (reduction == "sum") return LossReduction::Sum;
  if (reduction == "none") return LossReduction::None;
  detail::throw_error(ErrorKind::Value, op, ": reduction must be 'mean', 'sum' or 'none', got '", reduction, "'");
}

}  // namespace vt
