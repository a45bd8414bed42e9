#pragma once
// Argument checks of the reductions that pick an element (amax/amin, max/min along a dim,
// argmax/argmin), shared by the CPU and CUDA kernels: the reduced dims, and no empty reduction.
#include <optional>

#include "ops/ops.h"
#include "ops/reduction_util.h"

namespace vt {

// amax / amin (`op`) over dim (all dims when absent or empty).
inline ReductionDims check_extremum_args(const char* op, const Tensor& self, const std::optional<IntList>& dim,
                                         bool keepdim) {
  ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, op);
  check_nonempty_reduction(self.sizes(), rd, dim && !dim->empty(), op);
  return rd;
}

// max / min (`op`) along one dim.
inline ReductionDims check_extremum_dim_args(const char* op, const Tensor& self, int64_t dim, bool keepdim) {
  ReductionDims rd = reduction_dims(self.sizes(), IntList{dim}, keepdim, op);
  check_nonempty_reduction(self.sizes(), rd, true, op);
  return rd;
}

// argmax / argmin (`op`) along dim, or over the flattened tensor when dim is absent.
inline ReductionDims check_arg_extremum_args(const char* op, const Tensor& self, std::optional<int64_t> dim,
                                             bool keepdim) {
  VT_CHECK_TYPE(self.dtype() != DType::Bool, op, ": not implemented for bool tensors");
  std::optional<IntList> dims = dim ? std::optional<IntList>(IntList{*dim}) : std::nullopt;
  ReductionDims rd = reduction_dims(self.sizes(), dims, keepdim, op);
  check_nonempty_reduction(self.sizes(), rd, dim.has_value(), op);
  return rd;
}

}  // namespace vt
