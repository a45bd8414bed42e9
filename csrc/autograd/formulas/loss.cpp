// Autograd kernel of nll_loss; the gradient is vt::nll_loss_backward on the input's device.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct NllLossBackward : Node {
  SavedVariable self, target;
  int64_t ignore_index = -100;
  std::string reduction;
  std::string name() const override { return "NllLossBackward0"; }
  void release_variables() override { self.reset(); target.reset(); }
  TensorList apply(TensorList&& g) override {
    return {ops::nll_loss_backward(g[0], self.unpack(this), target.unpack(this), ignore_index, reduction)};
  }
};

Tensor nll_loss_ag(const Tensor& self, const Tensor& target, int64_t ignore_index, const std::string& reduction) {
  Tensor out = below_autograd([&] { return ops::nll_loss(self, target, ignore_index, reduction); });
  if (auto n = make_node<NllLossBackward>(self)) {
    n->self = SavedVariable(self, false);
    n->target = SavedVariable(target, false);
    n->ignore_index = ignore_index;
    n->reduction = reduction;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::nll_loss", Autograd, nll_loss_ag);

}  // namespace vt::autograd
