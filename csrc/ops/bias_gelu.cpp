// See bias_gelu.h and Note [Bias GELU] there.
#include "ops/bias_gelu.h"

namespace vt {
namespace {

// The type both paths compute in: float64 when either operand is, else float32.
DType compute_dtype(const Tensor& self, const Tensor& bias) {
  return self.dtype() == DType::Float64 || bias.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
}
Tensor cast(const Tensor& t, DType d) { return t.dtype() == d ? t : ops::to_dtype(t, d); }

}  // namespace

BiasGeluArgs check_bias_gelu_args(const char* op, const Tensor& self, const Tensor& bias, const std::string& approximate) {
  VT_CHECK_VALUE(approximate == "none" || approximate == "tanh", op, ": approximate must be 'none' or 'tanh', got '",
                 approximate, "'");
  VT_CHECK(bias.device() == self.device(), op, ": expected the bias on the input's device ", self.device(), ", got ",
           bias.device());
  VT_CHECK_TYPE(is_floating(self.dtype()), op, ": expected a floating point input, got ", self.dtype());
  VT_CHECK_TYPE(bias.dtype() == self.dtype() || bias.dtype() == DType::Float32, op, ": expected a bias of the input's dtype (",
                self.dtype(), self.dtype() == DType::Float32 ? ")" : ") or float32", ", got ", bias.dtype());
  VT_CHECK_VALUE(self.dim() >= 1, op, ": expected an input of shape (..., C) with at least one dim, got a 0-d tensor");
  BiasGeluArgs a;
  a.cols = self.size(-1);
  a.rows = a.cols == 0 ? 0 : self.numel() / a.cols;
  a.tanh = approximate == "tanh";
  VT_CHECK_VALUE(bias.dim() == 1 && bias.size(0) == a.cols, op, ": expected a bias of shape (", a.cols,
                 ") for an input of shape ", shape_str(self.sizes()), ", got ", shape_str(bias.sizes()));
  return a;
}

BiasGeluArgs check_bias_gelu_backward_args(const char* op, const Tensor& grad, const Tensor& self, const Tensor& bias,
                                           const std::string& approximate) {
  BiasGeluArgs a = check_bias_gelu_args(op, self, bias, approximate);
  VT_CHECK(grad.device() == self.device(), op, ": expected grad on the input's device ", self.device(), ", got ",
           grad.device());
  VT_CHECK_TYPE(is_floating(grad.dtype()), op, ": expected a floating point grad, got ", grad.dtype());
  VT_CHECK_VALUE(DimVector(grad.sizes()) == DimVector(self.sizes()), op, ": expected a grad of the input's shape ",
                 shape_str(self.sizes()), ", got ", shape_str(grad.sizes()));
  return a;
}

Tensor bias_gelu_math(const Tensor& self, const Tensor& bias, const std::string& approximate) {
  DType c = compute_dtype(self, bias);
  Tensor y = ops::gelu(ops::add(cast(self, c), cast(bias, c), Scalar(int64_t(1))), approximate);
  return cast(y, self.dtype());
}

std::tuple<Tensor, Tensor> bias_gelu_math_backward(const Tensor& grad, const Tensor& self, const Tensor& bias,
                                                   const std::string& approximate) {
  DType c = compute_dtype(self, bias);
  Tensor pre = ops::add(cast(self, c), cast(bias, c), Scalar(int64_t(1)));
  Tensor dx = ops::gelu_backward(cast(grad, c), pre, approximate);
  IntList leading;
  for (int64_t d = 0; d + 1 < self.dim(); ++d) leading.push_back(d);
  // (an empty dim list would sum everything: a 1-d input's dbias is dx itself)
  Tensor db = leading.empty() ? dx : ops::sum(dx, leading, false, std::nullopt);
  return {cast(dx, self.dtype()), cast(db, bias.dtype())};
}

}  // namespace vt
