// CPU kernels of vt::_fused_cross_entropy and its backward: the math on ops (Note [Fused
// cross-entropy] in ops/cross_entropy_fused.h), so the op, its autograd and its reductions answer on
// every device. cross_entropy routes only CUDA tensors to it.
#include "dispatch/dispatcher.h"
#include "ops/cross_entropy_fused.h"

namespace vt::cpu {
namespace {

std::tuple<Tensor, Tensor, Tensor> fused_cross_entropy_cpu(const Tensor& self, const Tensor& target, int64_t ignore_index,
                                                           const std::string& reduction) {
  FusedCeArgs a = check_fused_ce_args("_fused_cross_entropy", self, target, reduction);
  return fused_ce_math_forward(self, target, ignore_index, a.reduction);
}

Tensor fused_cross_entropy_backward_cpu(const Tensor& grad, const Tensor& self, const Tensor& target, const Tensor& lse,
                                        const Tensor& count, int64_t ignore_index, const std::string& reduction) {
  const char* op = "_fused_cross_entropy_backward";
  FusedCeArgs a = check_fused_ce_args(op, self, target, reduction);
  check_fused_ce_backward_args(op, a, self, grad, lse, count);
  return fused_ce_math_backward(grad, self, target, lse, count, ignore_index, a.reduction);
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_cross_entropy", CPU, fused_cross_entropy_cpu);
VT_REGISTER_KERNEL("vt::_fused_cross_entropy_backward", CPU, fused_cross_entropy_backward_cpu);

}  // namespace vt::cpu
