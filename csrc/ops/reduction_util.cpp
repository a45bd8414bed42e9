#include "ops/reduction_util.h"

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
  for (int64_t i = 0; i < n; ++i) {
    bool r = rd.reduced[size_t(i)];
    rd.kept_shape.push_back(r ? 1 : sizes[i]);
    if (r) rd.count *= sizes[i];
    if (!r || keepdim) rd.out_shape.push_back(r ? 1 : sizes[i]);
  }
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

LossReduction parse_loss_reduction(const std::string& reduction, const char* op) {
  if (reduction == "mean") return LossReduction::Mean;
  if (reduction == "sum") return LossReduction::Sum;
  if (reduction == "none") return LossReduction::None;
  detail::throw_error(ErrorKind::Value, op, ": reduction must be 'mean', 'sum' or 'none', got '", reduction, "'");
}

}  // namespace vt
