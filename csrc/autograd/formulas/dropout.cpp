// Autograd kernel of dropout: vt::native_dropout draws the mask, which is saved and reused by
// vt::dropout_backward, on the input's device.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct DropoutBackward : Node {
  SavedVariable mask;  // undefined for p == 1 (everything dropped)
  double scale = 1;
  InputMeta in;
  std::string name() const override { return "NativeDropoutBackward0"; }
  void release_variables() override { mask.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor m = mask.unpack(this);
    if (!m.defined()) return {ops::zeros(in.shape.vec(), in.dtype, in.device)};
    Tensor gi = ops::dropout_backward(g[0], m, scale);
    return {gi.dtype() == in.dtype ? gi : ops::to_dtype(gi, in.dtype)};
  }
};

Tensor dropout_ag(const Tensor& input, double p, bool train) {
  Tensor out = below_autograd([&] { return (p > 0.0 && p < 1.0 && train) ? Tensor() : ops::dropout(input, p, train); });
  if (out.defined() && out.is_same(input)) return input;  // train=False or p == 0: the input itself
  auto n = make_node<DropoutBackward>(input);
  if (!out.defined()) {
    auto [o, mask] = below_autograd([&] { return ops::native_dropout(input, p); });
    out = o;
    if (n) { n->mask = SavedVariable(mask, false); n->scale = 1.0 / (1.0 - p); }
  }
  if (n) {
    n->in = meta_of(input);
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::dropout", Autograd, dropout_ag);

}  // namespace vt::autograd
