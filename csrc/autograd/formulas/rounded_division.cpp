// Autograd kernels of div(rounding_mode=...) and remainder. A rounded quotient is piecewise constant:
// its gradient is zero (torch's DivBackward2 gives zeros too). remainder(a, b) = a - floor(a / b) * b.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct DivRoundedBackward : Node {
  InputMeta a, b;
  std::string name() const override { return "DivBackward2"; }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    if (needs(*this, 0)) r[0] = ops::zeros(a.shape.vec(), a.dtype, a.device);
    if (needs(*this, 1)) r[1] = ops::zeros(b.shape.vec(), b.dtype, b.device);
    return r;
  }
};

Tensor div_rounded_ag(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  Tensor out = below_autograd([&] { return ops::div_rounded(a, b, rounding_mode); });
  if (auto n = make_node<DivRoundedBackward>(a, b)) {
    n->a = meta_of(a);
    n->b = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}

struct RemainderBackward : Node {
  SavedVariable a, b;
  InputMeta am, bm;
  std::string name() const override { return "RemainderBackward0"; }
  void release_variables() override { a.reset(); b.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    if (needs(*this, 0)) r[0] = reduce_grad(g[0], am);
    if (needs(*this, 1)) {
      Tensor q = ops::div_rounded(a.unpack(this), b.unpack(this), "floor");
      r[1] = reduce_grad(ops::neg(ops::mul(g[0], q)), bm);
    }
    return r;
  }
};

Tensor remainder_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::remainder(a, b); });
  if (auto n = make_node<RemainderBackward>(a, b)) {
    n->a = SavedVariable(a, false);
    n->b = SavedVariable(b, false);
    n->am = meta_of(a);
    n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::div_rounded", Autograd, div_rounded_ag);
VT_REGISTER_KERNEL("vt::remainder", Autograd, remainder_ag);

}  // namespace vt::autograd
