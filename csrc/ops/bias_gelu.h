#pragma once
// vt::bias_gelu and its backward: argument checks and the math on ops that every device can run.
// See Note [Bias GELU].
#include <string>
#include <tuple>

#include "ops/ops.h"

namespace vt {

// Note [Bias GELU]
// A transformer MLP's first layer is a Linear with bias followed by GELU. Composed, that is the
// product, a bias add over the [rows, cols] output and a GELU: the add writes the whole activation
// and the GELU reads it back, and backward the GELU's gradient is written and then summed over rows
// for the bias. vt::bias_gelu(x, bias) = gelu(x + bias), bias 1-d of size x.size(-1) broadcast over
// every leading dim, is one op: on CUDA under kernels.backend=triton (the "gelu" family) one Triton
// kernel forward (kernels/triton/gelu.py, bias_gelu_fwd) and, backward, one kernel writing dx and a
// float32 partial bias sum per program plus the column sums that finish dbias (norm_bwd_dwdb), so
// dbias is deterministic. x's rows are read through one row stride (a column slice needs no copy);
// other layouts are copied first. Elsewhere (CPU, the native backend, float64, a deferred compile)
// the same math runs on ops.
// Dtypes: x floating; bias of x's dtype or float32 (float32 parameters under half inputs). Both
// paths compute in float32 (float64 when either operand is) and round once: y and dx have x's dtype,
// dbias is summed in the compute type and cast to the bias's dtype. So with bf16 / fp16 operands
// the result differs from torch's gelu(x + b), which rounds x + b to the half type first, by at most
// that rounding.
struct BiasGeluArgs {
  int64_t rows = 0, cols = 0;  // x seen as [rows, cols]
  bool tanh = false;           // approximate == "tanh"
};

// Checks that self is floating with at least one dim, bias 1-d of size self.size(-1) of self's dtype
// or float32 on self's device and approximate "none" or "tanh"; TypeError / ValueError /
// RuntimeError naming what was given otherwise.
BiasGeluArgs check_bias_gelu_args(const char* op, const Tensor& self, const Tensor& bias, const std::string& approximate);
// The backward's checks: check_bias_gelu_args plus a floating grad of self's shape on its device.
BiasGeluArgs check_bias_gelu_backward_args(const char* op, const Tensor& grad, const Tensor& self, const Tensor& bias,
                                           const std::string& approximate);

Tensor bias_gelu_math(const Tensor& self, const Tensor& bias, const std::string& approximate);
// (dx, dbias)
std::tuple<Tensor, Tensor> bias_gelu_math_backward(const Tensor& grad, const Tensor& self, const Tensor& bias,
                                                   const std::string& approximate);

}  // namespace vt
