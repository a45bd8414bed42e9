#pragma once
// Argument checks and operands of the fused recurrent cells (_fused_lstm_cell, _fused_gru_cell and
// their backwards), shared by the CPU and CUDA kernels: a bad call raises one message on every
// device, and both run the element functions of ops/rnn_cell_math.h over the same layout.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>

#include "ops/ops.h"
#include "ops/rnn_cell_math.h"

namespace vt {

// Note [Fused RNN cells]
// Without cuDNN torch runs an LSTM or GRU step as two matmuls and one pointwise kernel
// (_thnn_fused_lstm_cell / _thnn_fused_gru_cell). Composed from ops, the pointwise part is ~12 ops
// forward and ~25 backward per step, and at a small language model's sizes a step is all host time
// (issue 13: 3.5x torch's step). The fused ops take a step's input projection xw and hidden
// projection hw, both [N, G*H] (LSTM: G = 4, gates i, f, g, o; GRU: G = 3, gates r, z, n), optional
// biases [G*H] added to each, and the previous state [N, H] (LSTM: c; GRU: h):
// - LSTM: (h_new, c_new, workspace [N, 4H] = the activated gates). The backward takes grad_h,
//   grad_c, c, c_new and the workspace and returns d_gates, the gradient of the pre-activations
//   (that of xw and of hw alike; summed over the batch, that of either bias), and dc.
// - GRU: n = tanh(xn + r * hn), hn the hidden projection's n part with its bias (so b_hn stays apart
//   from b_in), h_new = n + z * (h - n). workspace [N, 5H] = r, z, n, hn, h (torch's layout), so the
//   backward needs only grad_h and the workspace: it returns d_xw, d_hw (they differ in the n gate:
//   d_hn = d_n * r) and dh.
// Both devices compute element by element with ops/rnn_cell_math.h in the opmath type. The autograd
// nodes (autograd/formulas/rnn_cell.cpp) sum the bias gradients and refuse a double backward (the
// workspace has no history to differentiate). nn.LSTM folds both biases into its sequence-wide input
// projection, so its steps pass none; nn.GRU folds b_ih there and passes b_hh, which b_hn must stay in
// (vibetensor/nn/modules/rnn.py).

struct RnnCellShape {
  int64_t batch, hidden;
};

// xw [N, G*H] (floating), hw of xw's shape, `state` [N, H] and the biases [G*H] when given, all of
// xw's dtype and device.
RnnCellShape check_rnn_cell_args(const char* op, int64_t gates, const Tensor& xw, const Tensor& hw,
                                 const char* state_name, const Tensor& state, const std::optional<Tensor>& b_ih,
                                 const std::optional<Tensor>& b_hh);

// workspace [N, width*H] (floating) and each named tensor [N, H], of the workspace's dtype and device.
RnnCellShape check_rnn_cell_backward_args(const char* op, int64_t width, const Tensor& workspace,
                                          std::initializer_list<std::pair<const char*, const Tensor*>> states);

// A call's operands made contiguous and its outputs allocated; numel = N * H elements to run.
// args<T>() are the pointers as the device's element type T.
struct LstmCellForward {
  Tensor xw, hw, c, b_ih, b_hh, h_new, c_new, ws;
  int64_t hidden, numel;
  template <class T> rnn_cell::LstmForwardArgs<T> args() const;
};
struct LstmCellBackward {
  Tensor grad_h, grad_c, c, c_new, ws, d_gates, dc;
  int64_t hidden, numel;
  template <class T> rnn_cell::LstmBackwardArgs<T> args() const;
};
struct GruCellForward {
  Tensor xw, hw, h, b_ih, b_hh, h_new, ws;
  int64_t hidden, numel;
  template <class T> rnn_cell::GruForwardArgs<T> args() const;
};
struct GruCellBackward {
  Tensor grad_h, ws, d_xw, d_hw, dh;
  int64_t hidden, numel;
  template <class T> rnn_cell::GruBackwardArgs<T> args() const;
};

LstmCellForward lstm_cell_forward(const Tensor& xw, const Tensor& hw, const Tensor& c, const std::optional<Tensor>& b_ih,
                                  const std::optional<Tensor>& b_hh);
LstmCellBackward lstm_cell_backward(const Tensor& grad_h, const Tensor& grad_c, const Tensor& c, const Tensor& c_new,
                                    const Tensor& workspace);
GruCellForward gru_cell_forward(const Tensor& xw, const Tensor& hw, const Tensor& h, const std::optional<Tensor>& b_ih,
                                const std::optional<Tensor>& b_hh);
GruCellBackward gru_cell_backward(const Tensor& grad_h, const Tensor& workspace);

namespace rnn_cell {
template <class T> const T* in(const Tensor& t) { return t.defined() ? static_cast<const T*>(t.data_ptr()) : nullptr; }
template <class T> T* out(const Tensor& t) { return static_cast<T*>(t.data_ptr()); }
}  // namespace rnn_cell

template <class T> rnn_cell::LstmForwardArgs<T> LstmCellForward::args() const {
  using namespace rnn_cell;
  return {in<T>(xw), in<T>(hw), in<T>(c), in<T>(b_ih), in<T>(b_hh), out<T>(h_new), out<T>(c_new), out<T>(ws), hidden};
}
template <class T> rnn_cell::LstmBackwardArgs<T> LstmCellBackward::args() const {
  using namespace rnn_cell;
  return {in<T>(grad_h), in<T>(grad_c), in<T>(c), in<T>(c_new), in<T>(ws), out<T>(d_gates), out<T>(dc), hidden};
}
template <class T> rnn_cell::GruForwardArgs<T> GruCellForward::args() const {
  using namespace rnn_cell;
  return {in<T>(xw), in<T>(hw), in<T>(h), in<T>(b_ih), in<T>(b_hh), out<T>(h_new), out<T>(ws), hidden};
}
template <class T> rnn_cell::GruBackwardArgs<T> GruCellBackward::args() const {
  using namespace rnn_cell;
  return {in<T>(grad_h), in<T>(ws), out<T>(d_xw), out<T>(d_hw), out<T>(dh), hidden};
}

}  // namespace vt
