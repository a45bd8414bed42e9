// CPU kernels of vt::bias_gelu and its backward: the math on ops (Note [Bias GELU] in ops/bias_gelu.h).
#include "dispatch/dispatcher.h"
#include "ops/bias_gelu.h"

namespace vt::cpu {
namespace {

Tensor bias_gelu_cpu(const Tensor& self, const Tensor& bias, const std::string& approximate) {
  check_bias_gelu_args("bias_gelu", self, bias, approximate);
  return bias_gelu_math(self, bias, approximate);
}

std::tuple<Tensor, Tensor> bias_gelu_backward_cpu(const Tensor& grad, const Tensor& self, const Tensor& bias,
                                                  const std::string& approximate) {
  check_bias_gelu_backward_args("bias_gelu_backward", grad, self, bias, approximate);
  return bias_gelu_math_backward(grad, self, bias, approximate);
}

}  // namespace

VT_REGISTER_KERNEL("vt::bias_gelu", CPU, bias_gelu_cpu);
VT_REGISTER_KERNEL("vt::bias_gelu_backward", CPU, bias_gelu_backward_cpu);

}  // namespace vt::cpu
