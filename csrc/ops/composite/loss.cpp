// Composite losses: cross_entropy as log_softmax over the class dim followed by nll_loss (class
// indices) or by the negated sum of target probabilities times log-probabilities. On CUDA, when
// kernels.backend selects the suite's "cross_entropy" family, (N, C) logits with class indices run
// vt::_fused_cross_entropy instead (Note [Fused cross-entropy] in ops/cross_entropy_fused.h).
#include "ops/cross_entropy_fused.h"
#include "ops/reduction_util.h"
#include "ops/suite/launch.h"

namespace vt::composite {
namespace {

// As torch.nn.functional.cross_entropy without weight and label smoothing: self is (C), (N, C)
// or (N, C, d1, ...); the class dim is 0 for (C) and 1 otherwise. An integer target holds class
// indices, a floating target of self's shape holds class probabilities.
Tensor cross_entropy(const Tensor& self, const Tensor& target, int64_t ignore_index, const std::string& reduction) {
  LossReduction red = parse_loss_reduction(reduction, "cross_entropy");
  VT_CHECK_VALUE(self.dim() >= 1, "cross_entropy: expected an input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d tensor");
  if (self.device().is_cuda() && !is_floating(target.dtype()) && suite::selected("cross_entropy")) {
    std::string why = fused_ce_unsupported(self, target);
    if (why.empty()) return std::get<0>(ops::_fused_cross_entropy(self, target, ignore_index, reduction));
    suite::fallback("cross_entropy", why);
  }
  int64_t class_dim = self.dim() == 1 ? 0 : 1;
  Tensor logp = ops::log_softmax(self, class_dim);
  if (!is_floating(target.dtype())) return ops::nll_loss(logp, target, ignore_index, reduction);
  VT_CHECK_VALUE(DimVector(target.sizes()) == DimVector(self.sizes()), "cross_entropy: a target of class probabilities must "
                 "have the input's shape ", shape_str(self.sizes()), ", got ", shape_str(target.sizes()));
  Tensor per_item = ops::neg(ops::sum(ops::mul(logp, target), IntList{class_dim}, false, std::nullopt));
  switch (red) {
    case LossReduction::None: return per_item;
    case LossReduction::Sum: return ops::sum(per_item, std::nullopt, false, std::nullopt);
    case LossReduction::Mean: break;
  }
  return ops::mean(per_item, std::nullopt, false, std::nullopt);
}

}  // namespace

VT_REGISTER_KERNEL("vt::cross_entropy", Composite, cross_entropy);

}  // namespace vt::composite
