// CPU kernels of the fused LSTM and GRU cells and their backwards: one loop over the N * H elements
// of the state running ops/rnn_cell_math.h (Note [Fused RNN cells] in ops/rnn_cell_args.h).
#include "dispatch/dispatcher.h"
#include "ops/rnn_cell_kernels.h"

namespace vt::cpu {
namespace {

struct HostIO {
  template <class T> static opmath_t<T> load(T v) { return opmath_t<T>(v); }
  template <class T, class A> static T store(A v) { return T(v); }
};

// rnn_cell::CellKernels's Run: the element functor over every element of the call's operands t.
struct HostRun {
  template <class Element, class Operands> static void run(const char* op, const Tensor& first, const Operands& t) {
    VT_DISPATCH_FLOATING(first.dtype(), op, [&]<class T>() {
      auto args = t.template args<T>();
      for (int64_t i = 0; i < t.numel; ++i) Element{}.template operator()<opmath_t<T>, HostIO>(args, i);
    });
  }
};

using Cells = rnn_cell::CellKernels<HostRun>;

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_lstm_cell", CPU, Cells::lstm);
VT_REGISTER_KERNEL("vt::_fused_lstm_cell_backward", CPU, Cells::lstm_backward);
VT_REGISTER_KERNEL("vt::_fused_gru_cell", CPU, Cells::gru);
VT_REGISTER_KERNEL("vt::_fused_gru_cell_backward", CPU, Cells::gru_backward);

}  // namespace vt::cpu
