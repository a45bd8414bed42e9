// Autograd kernel of sort: each value's gradient goes back to the position its index names.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct SortBackward : Node {
  SavedVariable indices;
  InputMeta in;
  int64_t dim = 0;
  std::string name() const override { return "SortBackward0"; }
  void release_variables() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    if (in.shape.empty()) return {g[0]};
    // The indices are a permutation along dim: scatter_add writes each gradient once.
    Tensor z = ops::zeros(in.shape.vec(), g[0].dtype(), g[0].device());
    return {ops::scatter_add(z, dim, indices.unpack(this), g[0])};
  }
};

std::tuple<Tensor, Tensor> sort_ag(const Tensor& self, int64_t dim, bool descending, bool stable) {
  auto [values, indices] = below_autograd([&] { return ops::sort(self, dim, descending, stable); });
  if (auto n = make_node<SortBackward>(self)) {
    n->indices = SavedVariable(indices, true);
    n->in = meta_of(self);
    n->dim = wrap_dim(dim, self.dim(), "sort");
    set_history(n, {&values});
  }
  return {values, indices};
}

}  // namespace

VT_REGISTER_KERNEL("vt::sort", Autograd, sort_ag);

}  // namespace vt::autograd
