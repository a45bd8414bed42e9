#pragma once
// Argument checks of triu / tril, shared by the CPU and CUDA kernels.
#include "ops/ops.h"

namespace vt {

// The matrices of the last two dims of self (at least 2 dims; errors name `op`).
struct TriangleShape {
  int64_t rows, cols;
};
inline TriangleShape check_triangle_args(const char* op, const Tensor& self) {
  VT_CHECK_VALUE(self.dim() >= 2, op, ": expected a tensor with at least 2 dimensions, got shape ", shape_str(self.sizes()));
  return {self.sizes()[self.dim() - 2], self.sizes().back()};
}

}  // namespace vt
