#include "ops/rnn_cell_args.h"

namespace vt {
namespace {

void check_like(const char* op, const char* name, const Tensor& t, const char* ref_name, const Tensor& ref) {
  VT_CHECK(t.device() == ref.device(), op, ": expected ", name, " on ", ref_name, "'s device ", ref.device(), ", got ",
           t.device());
  VT_CHECK_TYPE(t.dtype() == ref.dtype(), op, ": expected ", name, " of ", ref_name, "'s dtype ", ref.dtype(), ", got ",
                t.dtype());
}

void check_shape(const char* op, const char* name, const Tensor& t, const DimVector& want) {
  VT_CHECK_VALUE(DimVector(t.sizes()) == want, op, ": expected ", name, " of shape ", shape_str(want), ", got ",
                 shape_str(t.sizes()));
}

// [N, width*H] -> {N, H}.
RnnCellShape gate_shape(const char* op, const char* name, const Tensor& t, int64_t width) {
  VT_CHECK_TYPE(is_floating(t.dtype()), op, ": expected a floating point ", name, ", got ", t.dtype());
  VT_CHECK_VALUE(t.dim() == 2 && t.size(1) % width == 0, op, ": expected ", name, " of shape [N, ", width,
                 " * hidden_size], got ", shape_str(t.sizes()));
  return {t.size(0), t.size(1) / width};
}

Tensor dense(const Tensor& t) {
  NoGradGuard no_grad;  // the kernels run below autograd: nothing to record
  return t.is_contiguous() ? t : ops::contiguous(t);
}
Tensor dense(const std::optional<Tensor>& t) { return t ? dense(*t) : Tensor(); }
Tensor empty_like_shape(const Tensor& like, int64_t rows, int64_t cols) {
  return empty_tensor({rows, cols}, like.dtype(), like.device());
}

}  // namespace

RnnCellShape check_rnn_cell_args(const char* op, int64_t gates, const Tensor& xw, const Tensor& hw,
                                 const char* state_name, const Tensor& state, const std::optional<Tensor>& b_ih,
                                 const std::optional<Tensor>& b_hh) {
  RnnCellShape s = gate_shape(op, "xw", xw, gates);
  check_like(op, "hw", hw, "xw", xw);
  check_shape(op, "hw", hw, {s.batch, gates * s.hidden});
  check_like(op, state_name, state, "xw", xw);
  check_shape(op, state_name, state, {s.batch, s.hidden});
  for (auto [name, b] : {std::pair{"b_ih", &b_ih}, std::pair{"b_hh", &b_hh}}) {
    if (!b->has_value()) continue;
    check_like(op, name, **b, "xw", xw);
    check_shape(op, name, **b, {gates * s.hidden});
  }
  return s;
}

RnnCellShape check_rnn_cell_backward_args(const char* op, int64_t width, const Tensor& workspace,
                                          std::initializer_list<std::pair<const char*, const Tensor*>> states) {
  RnnCellShape s = gate_shape(op, "workspace", workspace, width);
  for (auto [name, t] : states) {
    check_like(op, name, *t, "workspace", workspace);
    check_shape(op, name, *t, {s.batch, s.hidden});
  }
  return s;
}

LstmCellForward lstm_cell_forward(const Tensor& xw, const Tensor& hw, const Tensor& c, const std::optional<Tensor>& b_ih,
                                  const std::optional<Tensor>& b_hh) {
  RnnCellShape s = check_rnn_cell_args("_fused_lstm_cell", 4, xw, hw, "c", c, b_ih, b_hh);
  int64_t n = s.batch, h = s.hidden;
  return {dense(xw), dense(hw), dense(c), dense(b_ih), dense(b_hh), empty_like_shape(xw, n, h),
          empty_like_shape(xw, n, h), empty_like_shape(xw, n, 4 * h), h, n * h};
}

LstmCellBackward lstm_cell_backward(const Tensor& grad_h, const Tensor& grad_c, const Tensor& c, const Tensor& c_new,
                                    const Tensor& workspace) {
  RnnCellShape s = check_rnn_cell_backward_args("_fused_lstm_cell_backward", 4, workspace,
                                                {{"grad_h", &grad_h}, {"grad_c", &grad_c}, {"c", &c}, {"c_new", &c_new}});
  int64_t n = s.batch, h = s.hidden;
  return {dense(grad_h), dense(grad_c), dense(c), dense(c_new), dense(workspace), empty_like_shape(workspace, n, 4 * h),
          empty_like_shape(workspace, n, h), h, n * h};
}

GruCellForward gru_cell_forward(const Tensor& xw, const Tensor& hw, const Tensor& h, const std::optional<Tensor>& b_ih,
                                const std::optional<Tensor>& b_hh) {
  RnnCellShape s = check_rnn_cell_args("_fused_gru_cell", 3, xw, hw, "h", h, b_ih, b_hh);
  int64_t n = s.batch, hid = s.hidden;
  return {dense(xw), dense(hw), dense(h), dense(b_ih), dense(b_hh), empty_like_shape(xw, n, hid),
          empty_like_shape(xw, n, 5 * hid), hid, n * hid};
}

GruCellBackward gru_cell_backward(const Tensor& grad_h, const Tensor& workspace) {
  RnnCellShape s = check_rnn_cell_backward_args("_fused_gru_cell_backward", 5, workspace, {{"grad_h", &grad_h}});
  int64_t n = s.batch, h = s.hidden;
  return {dense(grad_h), dense(workspace), empty_like_shape(workspace, n, 3 * h), empty_like_shape(workspace, n, 3 * h),
          empty_like_shape(workspace, n, h), h, n * h};
}

}  // namespace vt
