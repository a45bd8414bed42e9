#pragma once
// The kernel functions of the fused recurrent cells (Note [Fused RNN cells] in ops/rnn_cell_args.h),
// written once for every device: each checks and prepares its call (ops/rnn_cell_args.h), runs the
// cell's element function with the device's Run and returns the outputs. A device file supplies only
// its Run and registers CellKernels<Run>'s functions:
//   template <class Element, class Operands>
//   static void run(const char* op, const Tensor& first, const Operands& t);
// runs Element over t's t.numel elements in first's dtype, on first's device.
#include <optional>
#include <tuple>

#include "ops/rnn_cell_args.h"

namespace vt::rnn_cell {

template <class Run> struct CellKernels {
  static std::tuple<Tensor, Tensor, Tensor> lstm(const Tensor& xw, const Tensor& hw, const Tensor& c,
                                                 const std::optional<Tensor>& b_ih, const std::optional<Tensor>& b_hh) {
    LstmCellForward t = lstm_cell_forward(xw, hw, c, b_ih, b_hh);
    Run::template run<LstmForwardAt>("_fused_lstm_cell", xw, t);
    return {t.h_new, t.c_new, t.ws};
  }

  static std::tuple<Tensor, Tensor> lstm_backward(const Tensor& grad_h, const Tensor& grad_c, const Tensor& c,
                                                  const Tensor& c_new, const Tensor& workspace) {
    LstmCellBackward t = lstm_cell_backward(grad_h, grad_c, c, c_new, workspace);
    Run::template run<LstmBackwardAt>("_fused_lstm_cell_backward", workspace, t);
    return {t.d_gates, t.dc};
  }

  static std::tuple<Tensor, Tensor> gru(const Tensor& xw, const Tensor& hw, const Tensor& h,
                                        const std::optional<Tensor>& b_ih, const std::optional<Tensor>& b_hh) {
    GruCellForward t = gru_cell_forward(xw, hw, h, b_ih, b_hh);
    Run::template run<GruForwardAt>("_fused_gru_cell", xw, t);
    return {t.h_new, t.ws};
  }

  static std::tuple<Tensor, Tensor, Tensor> gru_backward(const Tensor& grad_h, const Tensor& workspace) {
    GruCellBackward t = gru_cell_backward(grad_h, workspace);
    Run::template run<GruBackwardAt>("_fused_gru_cell_backward", workspace, t);
    return {t.d_xw, t.d_hw, t.dh};
  }
};

}  // namespace vt::rnn_cell
