// Autograd kernels of vt::_fused_lstm_cell and vt::_fused_gru_cell: the forward saves what its
// backward op reads (LSTM: c, c_new and the workspace; GRU: the workspace), the backward runs that
// one op and sums the bias gradients over the batch. See Note [Fused RNN cells] in ops/rnn_cell_args.h.
#include "autograd/formulas/formula_helpers.h"
#include "core/grad_mode.h"

namespace vt::autograd {
namespace {

// The workspace is saved without a history, so the cells have no second derivative: refused with
// one message rather than a gradient that silently drops terms.
void refuse_double_backward(const char* op) {
  VT_CHECK_KIND(ErrorKind::NotImplemented, !GradMode::is_enabled(), op,
                ": double backward (create_graph=True) through the fused cell is not supported");
}

Tensor bias_grad(const Node& n, size_t edge, const Tensor& d_gates) {
  return needs(n, edge) ? ops::sum(d_gates, IntList{0}, false, std::nullopt) : Tensor();
}

// Edges: xw, hw, the previous state, b_ih, b_hh.
struct FusedLstmCellBackward : Node {
  SavedVariable c, c_new, workspace;
  std::string name() const override { return "FusedLstmCellBackward0"; }
  void release_variables() override { c.reset(); c_new.reset(); workspace.reset(); }
  TensorList apply(TensorList&& g) override {
    refuse_double_backward("_fused_lstm_cell");
    auto [d_gates, dc] = ops::_fused_lstm_cell_backward(g[0], g[1], c.unpack(this), c_new.unpack(this),
                                                         workspace.unpack(this));
    // xw and hw enter the pre-activations alike
    return {needs(*this, 0) ? d_gates : Tensor(), needs(*this, 1) ? d_gates : Tensor(), needs(*this, 2) ? dc : Tensor(),
            bias_grad(*this, 3, d_gates), bias_grad(*this, 4, d_gates)};
  }
};

std::tuple<Tensor, Tensor, Tensor> fused_lstm_cell_ag(const Tensor& xw, const Tensor& hw, const Tensor& c,
                                                      const std::optional<Tensor>& b_ih,
                                                      const std::optional<Tensor>& b_hh) {
  auto [h_new, c_new, ws] = below_autograd([&] { return ops::_fused_lstm_cell(xw, hw, c, b_ih, b_hh); });
  Tensor bi = b_ih.value_or(Tensor()), bh = b_hh.value_or(Tensor());
  if (auto n = make_node<FusedLstmCellBackward>(xw, hw, c, bi, bh)) {
    n->c = SavedVariable(c, false);
    n->c_new = SavedVariable(c_new, true, 1);
    n->workspace = SavedVariable(ws, false);  // not differentiable: no history of its own
    set_history(n, {&h_new, &c_new});
  }
  return {h_new, c_new, ws};
}

struct FusedGruCellBackward : Node {
  SavedVariable workspace;
  std::string name() const override { return "FusedGruCellBackward0"; }
  void release_variables() override { workspace.reset(); }
  TensorList apply(TensorList&& g) override {
    refuse_double_backward("_fused_gru_cell");
    auto [d_xw, d_hw, dh] = ops::_fused_gru_cell_backward(g[0], workspace.unpack(this));
    return {needs(*this, 0) ? d_xw : Tensor(), needs(*this, 1) ? d_hw : Tensor(), needs(*this, 2) ? dh : Tensor(),
            bias_grad(*this, 3, d_xw), bias_grad(*this, 4, d_hw)};
  }
};

std::tuple<Tensor, Tensor> fused_gru_cell_ag(const Tensor& xw, const Tensor& hw, const Tensor& h,
                                             const std::optional<Tensor>& b_ih, const std::optional<Tensor>& b_hh) {
  auto [h_new, ws] = below_autograd([&] { return ops::_fused_gru_cell(xw, hw, h, b_ih, b_hh); });
  Tensor bi = b_ih.value_or(Tensor()), bh = b_hh.value_or(Tensor());
  if (auto n = make_node<FusedGruCellBackward>(xw, hw, h, bi, bh)) {
    n->workspace = SavedVariable(ws, false);
    set_history(n, {&h_new});
  }
  return {h_new, ws};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_lstm_cell", Autograd, fused_lstm_cell_ag);
VT_REGISTER_KERNEL("vt::_fused_gru_cell", Autograd, fused_gru_cell_ag);

}  // namespace vt::autograd
