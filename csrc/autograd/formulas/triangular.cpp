// Autograd kernels of triu / tril: the gradient passes through the kept triangle only.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct TriangleBackward : Node {
  bool upper = true;
  int64_t diagonal = 0;
  std::string name() const override { return upper ? "TriuBackward0" : "TrilBackward0"; }
  TensorList apply(TensorList&& g) override {
    return {upper ? ops::triu(g[0], diagonal) : ops::tril(g[0], diagonal)};
  }
};

template <bool Upper>
Tensor triangle_ag(const Tensor& self, int64_t diagonal) {
  Tensor out = below_autograd([&] { return Upper ? ops::triu(self, diagonal) : ops::tril(self, diagonal); });
  if (auto n = make_node<TriangleBackward>(self)) {
    n->upper = Upper;
    n->diagonal = diagonal;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::triu", Autograd, triangle_ag<true>);
VT_REGISTER_KERNEL("vt::tril", Autograd, triangle_ag<false>);

}  // namespace vt::autograd
