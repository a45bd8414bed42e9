// Autograd kernel of cat: each input's gradient is its window of the output's gradient.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct CatBackward : Node {
  int64_t dim = 0;
  std::vector<InputMeta> inputs;
  std::vector<int64_t> offsets;  // start of each input along dim; -1: skipped by cat (legacy 1-D empty)
  std::string name() const override { return "CatBackward0"; }
  TensorList apply(TensorList&& g) override {
    TensorList r(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!needs(*this, i)) continue;
      const InputMeta& m = inputs[i];
      Tensor gi = offsets[i] < 0 ? ops::zeros(m.shape.vec(), m.dtype, m.device) : ops::narrow(g[0], dim, offsets[i], m.shape[dim]);
      r[i] = gi.dtype() == m.dtype ? gi : ops::to_dtype(gi, m.dtype);
    }
    return r;
  }
};

Tensor cat_ag(const TensorList& tensors, int64_t dim) {
  Tensor out = below_autograd([&] { return ops::cat(tensors, dim); });
  bool any = false;
  for (const Tensor& t : tensors) any |= t.requires_grad();
  if (!any || !GradMode::is_enabled()) return out;
  auto n = std::make_shared<CatBackward>();
  n->next_edges = collect_next_edges(tensors);
  // Legacy 1-D empty inputs are skipped by a cat of other shapes, or when every input is one.
  auto legacy_empty = [](const Tensor& t) { return t.dim() == 1 && t.sizes()[0] == 0; };
  bool all_empty = std::all_of(tensors.begin(), tensors.end(), legacy_empty);
  n->dim = all_empty ? 0 : wrap_dim(dim, out.dim(), "cat");
  int64_t off = 0;
  for (const Tensor& t : tensors) {
    n->inputs.push_back(meta_of(t));
    bool skipped = legacy_empty(t) && (all_empty || out.dim() != 1);
    n->offsets.push_back(skipped ? -1 : off);
    if (!skipped) off += t.sizes()[n->dim];
  }
  set_history(n, {&out});
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cat", Autograd, cat_ag);

}  // namespace vt::autograd
