#pragma once
// The argument checks and operand preparation of softmax_backward / log_softmax_backward, shared
// by the CPU and CUDA kernels.
#include "ops/ops.h"
#include "ops/reduction_util.h"

namespace vt {

struct SoftmaxBackwardArgs {
  Tensor grad;        // contiguous, in the output's dtype
  Tensor output;      // contiguous
  Tensor grad_input;  // fresh, the output's shape, dtype and device
  DimLayout layout;   // [outer, dim, inner] around the softmax dim
};

// softmax / log_softmax (`op`): a floating point tensor; returns dim wrapped into self's dims.
int64_t check_softmax_args(const char* op, const Tensor& self, int64_t dim);

// Checks shapes, dtype and devices (errors name `op`) and prepares the operands.
SoftmaxBackwardArgs prepare_softmax_backward(const char* op, const Tensor& grad, const Tensor& output, int64_t dim);

}  // namespace vt
