// CPU kernels of the fused LSTM and GRU cells and their backwards: one loop over the N * H elements
// of the state running ops/rnn_cell_math.h (Note [Fused RNN cells] in ops/rnn_cell_args.h).
#include "dispatch/dispatcher.h"
#include "ops/rnn_cell_args.h"

namespace vt::cpu {
namespace {

struct HostIO {
  template <class T> static opmath_t<T> load(T v) { return opmath_t<T>(v); }
  template <class T, class A> static T store(A v) { return T(v); }
};

// The element functor over every element of the call's operands t.
template <class Element, class Operands> void run(const char* op, DType dtype, const Operands& t) {
  VT_DISPATCH_FLOATING(dtype, op, [&]<class T>() {
    auto args = t.template args<T>();
    for (int64_t i = 0; i < t.numel; ++i) Element{}.template operator()<opmath_t<T>, HostIO>(args, i);
  });
}

std::tuple<Tensor, Tensor, Tensor> fused_lstm_cell_cpu(const Tensor& xw, const Tensor& hw, const Tensor& c,
                                                       const std::optional<Tensor>& b_ih,
                                                       const std::optional<Tensor>& b_hh) {
  LstmCellForward t = lstm_cell_forward(xw, hw, c, b_ih, b_hh);
  run<rnn_cell::LstmForwardAt>("_fused_lstm_cell", xw.dtype(), t);
  return {t.h_new, t.c_new, t.ws};
}

std::tuple<Tensor, Tensor> fused_lstm_cell_backward_cpu(const Tensor& grad_h, const Tensor& grad_c, const Tensor& c,
                                                        const Tensor& c_new, const Tensor& workspace) {
  LstmCellBackward t = lstm_cell_backward(grad_h, grad_c, c, c_new, workspace);
  run<rnn_cell::LstmBackwardAt>("_fused_lstm_cell_backward", workspace.dtype(), t);
  return {t.d_gates, t.dc};
}

std::tuple<Tensor, Tensor> fused_gru_cell_cpu(const Tensor& xw, const Tensor& hw, const Tensor& h,
                                              const std::optional<Tensor>& b_ih, const std::optional<Tensor>& b_hh) {
  GruCellForward t = gru_cell_forward(xw, hw, h, b_ih, b_hh);
  run<rnn_cell::GruForwardAt>("_fused_gru_cell", xw.dtype(), t);
  return {t.h_new, t.ws};
}

std::tuple<Tensor, Tensor, Tensor> fused_gru_cell_backward_cpu(const Tensor& grad_h, const Tensor& workspace) {
  GruCellBackward t = gru_cell_backward(grad_h, workspace);
  run<rnn_cell::GruBackwardAt>("_fused_gru_cell_backward", workspace.dtype(), t);
  return {t.d_xw, t.d_hw, t.dh};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_lstm_cell", CPU, fused_lstm_cell_cpu);
VT_REGISTER_KERNEL("vt::_fused_lstm_cell_backward", CPU, fused_lstm_cell_backward_cpu);
VT_REGISTER_KERNEL("vt::_fused_gru_cell", CPU, fused_gru_cell_cpu);
VT_REGISTER_KERNEL("vt::_fused_gru_cell_backward", CPU, fused_gru_cell_backward_cpu);

}  // namespace vt::cpu
