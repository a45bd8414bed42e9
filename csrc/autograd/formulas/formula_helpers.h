#pragma once
// Helpers for the backward formulas (autograd kernels): an autograd kernel runs the op below
// autograd, then, if an input requires grad, records a node whose apply() computes input
// gradients from ops. The formulas sit in the autograd layer, above the ops they call.
#include "autograd/node.h"
#include "ops/ops.h"
#include "ops/type_promotion.h"

namespace vt::autograd {

// Runs `f` with grad mode off: the op's device kernel runs and records nothing.
template <class F> auto below_autograd(F&& f) {
  NoGradGuard g;
  return f();
}

// A node of type N wired to `inputs`, or nullptr when no input needs a gradient.
template <class N, class... Ts> std::shared_ptr<N> make_node(const Ts&... inputs) {
  if (!any_requires_grad({&inputs...})) return nullptr;
  auto n = std::make_shared<N>();
  n->next_edges = collect_next_edges({&inputs...});
  return n;
}

// The gradient reduced to the input's shape (undoing broadcasting) and cast to its dtype.
inline Tensor reduce_grad(const Tensor& g, const InputMeta& m) {
  Tensor r = ops::sum_to_size(g, m.shape.vec());
  return r.dtype() == m.dtype ? r : ops::to_dtype(r, m.dtype);
}
inline InputMeta meta_of(const Tensor& t) { return {DimVector(t.sizes()), t.dtype(), t.device()}; }
inline bool needs(const Node& n, size_t i) { return i < n.next_edges.size() && n.next_edges[i].valid(); }
inline Tensor scalar_like(double v, const Tensor& like) { return ops::scalar_tensor(Scalar(v), like.dtype(), like.device()); }

// In-place ops under autograd: the out-of-place result (with its history) is computed, written
// into self, and self takes over its history. See Note [In-place autograd] in elementwise.cpp.
Tensor apply_inplace_with_history(const char* op, const Tensor& self, const Tensor& result_with_history);

}  // namespace vt::autograd
