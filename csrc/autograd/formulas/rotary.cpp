// Autograd kernel of vt::rotary_embedding (Note [Rotary embedding] in ops/rotary.h): the input's
// gradient is the same op rotating back (inverse flipped), one kernel on the suite's path; cos and
// sin, usually constant tables, get theirs from ops only when they require grad.
#include "autograd/formulas/formula_helpers.h"
#include "ops/rotary.h"

namespace vt::autograd {
namespace {

struct RotaryEmbeddingBackward : Node {
  SavedVariable self, cos, sin;
  InputMeta self_meta, cos_meta, sin_meta;
  bool inverse = false;
  std::string name() const override { return "RotaryEmbeddingBackward0"; }
  void release_variables() override { self.reset(); cos.reset(); sin.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor c = cos.unpack(this), s = sin.unpack(this);
    TensorList out(3);
    if (needs(*this, 0)) out[0] = reduce_grad(ops::rotary_embedding(g[0], c, s, !inverse), self_meta);
    if (needs(*this, 1) || needs(*this, 2)) {
      // y1 = x1 c - x2 s', y2 = x1 s' + x2 c with s' = -s when inverse.
      Tensor x = self.unpack(this);
      int64_t last = x.dim() - 1, half = x.size(-1) / 2;
      Tensor x1 = ops::narrow(x, last, 0, half), x2 = ops::narrow(x, last, half, half);
      Tensor g1 = ops::narrow(g[0], last, 0, half), g2 = ops::narrow(g[0], last, half, half);
      Scalar one(int64_t(1));
      if (needs(*this, 1))
        out[1] = reduce_grad(ops::add(ops::mul(g1, x1), ops::mul(g2, x2), one), cos_meta);
      if (needs(*this, 2)) {
        Tensor ds = ops::sub(ops::mul(g2, x1), ops::mul(g1, x2), one);
        out[2] = reduce_grad(inverse ? ops::neg(ds) : ds, sin_meta);
      }
    }
    return out;
  }
};

Tensor rotary_embedding_ag(const Tensor& self, const Tensor& cos, const Tensor& sin, bool inverse) {
  Tensor out = below_autograd([&] { return ops::rotary_embedding(self, cos, sin, inverse); });
  if (auto n = make_node<RotaryEmbeddingBackward>(self, cos, sin)) {
    n->cos = SavedVariable(cos, false);
    n->sin = SavedVariable(sin, false);
    if (cos.requires_grad() || sin.requires_grad()) n->self = SavedVariable(self, false);
    n->self_meta = meta_of(self);
    n->cos_meta = meta_of(cos);
    n->sin_meta = meta_of(sin);
    n->inverse = inverse;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::rotary_embedding", Autograd, rotary_embedding_ag);

}  // namespace vt::autograd
