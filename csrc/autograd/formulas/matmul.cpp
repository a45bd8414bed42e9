// Autograd kernel of matmul. See Note [Matmul backward].
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

// Note [Matmul backward]
// With 1-D operands promoted to matrices (a row (1, k) on the left, a column (k, 1) on the
// right) and the gradient reshaped to match, grad_a = grad @ b^T and grad_b = a^T @ grad, each
// reduced over the batch dims its operand was broadcast along. Two common broadcasts fold the
// reduction into the product instead of summing afterwards:
//   - b is one matrix shared by every batch (its batch dims, if any, are all 1: linear layers,
//     N-D @ 1-D): grad_b = A^T @ G with the batches of a and grad stacked as rows,
//     (B*m, k)^T @ (B*m, n);
//   - a is one matrix shared by every batch (2-D or 1-D @ N-D): grad_a = G @ B^T with the
//     batches laid side by side, (m, B*n) @ (B*n, k).
// The transposes are views; the matmul kernel hands them to gemm without copying.

Tensor mT(const Tensor& t) { return ops::transpose(t, -2, -1); }

// The dims of a batched matrix with its row dim moved to the front: (batch..., r, c) -> (r, batch..., c).
IntList rows_first(int64_t nd) {
  IntList p{nd - 2};
  for (int64_t d = 0; d < nd - 2; ++d) p.push_back(d);
  p.push_back(nd - 1);
  return p;
}

struct MatmulBackward : Node {
  SavedVariable self_, other_;  // each saved only when the other operand needs a gradient
  DimVector self_shape, other_shape;
  std::string name() const override { return "MatmulBackward0"; }
  void release_variables() override { self_.reset(); other_.reset(); }

  TensorList apply(TensorList&& grads) override {
    int64_t ad = int64_t(self_shape.size()), bd = int64_t(other_shape.size());
    // Shapes with 1-D operands promoted to matrices.
    DimVector a2s = self_shape, b2s = other_shape;
    if (ad == 1) a2s.insert(0, 1);
    if (bd == 1) b2s.push_back(1);
    int64_t m = a2s[a2s.size() - 2], k = a2s.back(), n = b2s.back();
    // The gradient as (batch..., m, n), undoing the squeezes of 1-D operands.
    IntList gshape(grads[0].sizes().begin(), grads[0].sizes().end());
    if (ad == 1) gshape.insert(gshape.end() - (bd == 1 ? 0 : 1), 1);
    if (bd == 1) gshape.push_back(1);
    Tensor g = ops::reshape(grads[0], gshape);
    int64_t gd = g.dim();
    // An operand whose batch dims are all 1 is one matrix shared by every batch of g.
    auto batch_numel = [](IntArrayRef s) { return numel_of(s.first(s.size() - 2)); };
    int64_t nb = batch_numel(g.sizes());
    bool a_shared = gd > 2 && batch_numel(a2s) == 1, b_shared = gd > 2 && batch_numel(b2s) == 1;

    TensorList r(2);
    if (needs(*this, 0)) {
      Tensor b2 = ops::reshape(other_.unpack(this), b2s.vec());
      Tensor ga;
      if (a_shared) {  // b2 holds every batch of g, in order
        Tensor gw = ops::reshape(ops::permute(g, rows_first(gd)), {m, nb * n});  // (m, B*n)
        Tensor bw = ops::reshape(mT(b2), {nb * n, k});                          // (B*n, k)
        ga = ops::matmul(gw, bw);
      } else {
        ga = ops::sum_to_size(ops::matmul(g, mT(b2)), a2s.vec());
      }
      r[0] = ops::reshape(ga, self_shape.vec());
    }
    if (needs(*this, 1)) {
      Tensor a2 = ops::reshape(self_.unpack(this), a2s.vec());
      Tensor gb;
      if (b_shared) {  // a2 holds every batch of g, in order
        gb = ops::matmul(mT(ops::reshape(a2, {nb * m, k})), ops::reshape(g, {nb * m, n}));
      } else {
        gb = ops::sum_to_size(ops::matmul(mT(a2), g), b2s.vec());
      }
      r[1] = ops::reshape(gb, other_shape.vec());
    }
    return r;
  }
};

Tensor matmul_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::matmul(a, b); });
  if (auto n = make_node<MatmulBackward>(a, b)) {
    // Each operand's gradient needs only the other operand.
    if (needs(*n, 1)) n->self_ = SavedVariable(a, false);
    if (needs(*n, 0)) n->other_ = SavedVariable(b, false);
    n->self_shape = DimVector(a.sizes());
    n->other_shape = DimVector(b.sizes());
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::matmul", Autograd, matmul_ag);

}  // namespace vt::autograd
