#pragma once
// Argument checks of div(rounding_mode=...) and remainder, shared by the CPU and CUDA kernels.
#include <string>

#include "ops/ops.h"
#include "ops/type_promotion.h"

namespace vt {

enum class RoundingMode { Trunc, Floor };

inline RoundingMode parse_rounding_mode(const std::string& mode) {
  VT_CHECK(mode == "trunc" || mode == "floor", "div: expected rounding_mode to be one of None, 'trunc', or 'floor' "
           "but found '", mode, "'");
  return mode == "floor" ? RoundingMode::Floor : RoundingMode::Trunc;
}

// The result dtype: the promotion of the operands, which stays integral (unlike true division); bool
// has no division.
inline DType rounded_result_dtype(const char* op, const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  VT_CHECK_TYPE(rt != DType::Bool, op, ": not implemented for bool tensors (convert them to an integer dtype)");
  return rt;
}

}  // namespace vt
