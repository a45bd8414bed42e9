// Autograd kernel of cumsum: input k reaches every output from k on, so its gradient is the sum of
// the gradients from k to the end: the cumsum of the reversed gradient, reversed back.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

Tensor reversed(const Tensor& t, int64_t dim) {
  int64_t n = t.sizes()[size_t(dim)];
  Tensor idx = ops::arange(Scalar(n - 1), Scalar(int64_t(-1)), Scalar(int64_t(-1)), DType::Int64, t.device());
  return ops::index_select(t, dim, idx);
}

struct CumsumBackward : Node {
  InputMeta in;
  int64_t dim = 0;
  std::string name() const override { return "CumsumBackward0"; }
  TensorList apply(TensorList&& g) override {
    Tensor gi = in.shape.empty() ? g[0] : reversed(ops::cumsum(reversed(g[0], dim), dim, std::nullopt), dim);
    return {gi.dtype() == in.dtype ? gi : ops::to_dtype(gi, in.dtype)};
  }
};

Tensor cumsum_ag(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  Tensor out = below_autograd([&] { return ops::cumsum(self, dim, dtype); });
  if (auto n = make_node<CumsumBackward>(self)) {
    n->in = meta_of(self);
    n->dim = wrap_dim(dim, self.dim(), "cumsum");
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cumsum", Autograd, cumsum_ag);

}  // namespace vt::autograd
