// Autograd kernel of vt::_fused_attention: the forward saves its inputs, its output and the per-row
// log-sum-exp, and the backward runs vt::_fused_attention_backward for all three gradients at once.
// See Note [Fused attention] in kernels/triton/attention.py.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct FusedAttentionBackward : Node {
  SavedVariable query, key, value, out, logsumexp;
  bool is_causal = false;
  double scale = 1;
  std::string name() const override { return "FusedAttentionBackward0"; }
  void release_variables() override { query.reset(); key.reset(); value.reset(); out.reset(); logsumexp.reset(); }
  TensorList apply(TensorList&& g) override {
    auto [dq, dk, dv] = ops::_fused_attention_backward(g[0], query.unpack(this), key.unpack(this), value.unpack(this),
                                                       out.unpack(this), logsumexp.unpack(this), is_causal, scale);
    return {dq, dk, dv};
  }
};

std::tuple<Tensor, Tensor> fused_attention_ag(const Tensor& query, const Tensor& key, const Tensor& value, bool is_causal,
                                              double scale) {
  auto [out, lse] = below_autograd([&] { return ops::_fused_attention(query, key, value, is_causal, scale); });
  if (auto n = make_node<FusedAttentionBackward>(query, key, value)) {
    n->query = SavedVariable(query, false);
    n->key = SavedVariable(key, false);
    n->value = SavedVariable(value, false);
    n->out = SavedVariable(out, true);
    n->logsumexp = SavedVariable(lse, false);  // not differentiable: no history of its own
    n->is_causal = is_causal;
    n->scale = scale;
    set_history(n, {&out});
  }
  return {out, lse};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_attention", Autograd, fused_attention_ag);

}  // namespace vt::autograd
