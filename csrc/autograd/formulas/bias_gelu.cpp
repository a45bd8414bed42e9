// Autograd kernel of vt::bias_gelu (Note [Bias GELU] in ops/bias_gelu.h): the backward is
// vt::bias_gelu_backward, which gives dx and dbias together (one kernel and the column sums on the
// suite's path).
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct BiasGeluBackward : Node {
  SavedVariable self, bias;
  InputMeta self_meta, bias_meta;
  std::string approximate;
  std::string name() const override { return "BiasGeluBackward0"; }
  void release_variables() override { self.reset(); bias.reset(); }
  TensorList apply(TensorList&& g) override {
    auto [dx, db] = ops::bias_gelu_backward(g[0], self.unpack(this), bias.unpack(this), approximate);
    TensorList out(2);
    if (needs(*this, 0)) out[0] = reduce_grad(dx, self_meta);
    if (needs(*this, 1)) out[1] = reduce_grad(db, bias_meta);
    return out;
  }
};

Tensor bias_gelu_ag(const Tensor& self, const Tensor& bias, const std::string& approximate) {
  Tensor out = below_autograd([&] { return ops::bias_gelu(self, bias, approximate); });
  if (auto n = make_node<BiasGeluBackward>(self, bias)) {
    n->self = SavedVariable(self, false);
    n->bias = SavedVariable(bias, false);
    n->self_meta = meta_of(self);
    n->bias_meta = meta_of(bias);
    n->approximate = approximate;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::bias_gelu", Autograd, bias_gelu_ag);

}  // namespace vt::autograd
