#pragma once
// The operand check of sub / sub_ on every device, with torch's rules and messages: no operand
// may be bool, a wrapped Python bool included (torch: `t - True` raises like `t - bool_tensor`).
#include "core/error.h"
#include "core/tensor.h"

namespace vt {

inline void check_sub_operands(const char* op, const Tensor& a, const Tensor& b) {
  bool ba = a.dtype() == DType::Bool, bb = b.dtype() == DType::Bool;
  VT_CHECK(!(ba && bb), op, ": subtraction, the `-` operator, with two bool tensors is not supported. "
           "Use the `^` or `logical_xor()` operator instead.");
  VT_CHECK(!(ba || bb), op, ": subtraction, the `-` operator, with a bool tensor is not supported. "
           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
}

}  // namespace vt
