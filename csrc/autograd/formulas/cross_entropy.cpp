// Autograd kernel of vt::_fused_cross_entropy: the forward saves the logits, the targets, the
// per-row log-sum-exp and the mean's count; the backward runs vt::_fused_cross_entropy_backward,
// one kernel for dlogits. See Note [Fused cross-entropy] in ops/cross_entropy_fused.h.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct FusedCrossEntropyBackward : Node {
  SavedVariable self, target, logsumexp, count;
  int64_t ignore_index = -100;
  std::string reduction;
  std::string name() const override { return "FusedCrossEntropyBackward0"; }
  void release_variables() override { self.reset(); target.reset(); logsumexp.reset(); count.reset(); }
  TensorList apply(TensorList&& g) override {
    return {ops::_fused_cross_entropy_backward(g[0], self.unpack(this), target.unpack(this), logsumexp.unpack(this),
                                               count.unpack(this), ignore_index, reduction)};
  }
};

std::tuple<Tensor, Tensor, Tensor> fused_cross_entropy_ag(const Tensor& self, const Tensor& target, int64_t ignore_index,
                                                          const std::string& reduction) {
  auto [loss, lse, count] =
      below_autograd([&] { return ops::_fused_cross_entropy(self, target, ignore_index, reduction); });
  if (auto n = make_node<FusedCrossEntropyBackward>(self)) {
    n->self = SavedVariable(self, false);
    n->target = SavedVariable(target, false);
    n->logsumexp = SavedVariable(lse, false);  // not differentiable: no history of its own
    n->count = SavedVariable(count, false);
    n->ignore_index = ignore_index;
    n->reduction = reduction;
    set_history(n, {&loss});
  }
  return {loss, lse, count};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_cross_entropy", Autograd, fused_cross_entropy_ag);

}  // namespace vt::autograd
