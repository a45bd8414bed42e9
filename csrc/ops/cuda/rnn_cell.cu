// CUDA kernels of the fused LSTM and GRU cells and their backwards: one elementwise launch each, a
// thread per element of the [N, H] state running ops/rnn_cell_math.h in float32 (float64 for
// float64), as the CPU kernels do (Note [Fused RNN cells] in ops/rnn_cell_args.h).
#include <tuple>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "dispatch/dispatcher.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/rnn_cell_args.h"

namespace vt::cuda_kernels {
namespace {

struct DeviceIO {
  template <class D> __device__ static dev_opmath_t<D> load(D v) { return to_opmath(v); }
  template <class D, class A> __device__ static D store(A v) { return from_opmath<D>(v); }
};

template <class A, class Element, class Args> __global__ void cell_kernel(Args args, int64_t numel) {
  int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < numel; i += step)
    Element{}.template operator()<A, DeviceIO>(args, i);
}

// The element functor over every element of the call's operands t, on the first operand's device.
template <class Element, class Operands>
void launch(const char* op, const Tensor& first, DType dtype, const Operands& t) {
  check_cuda(op, first);
  if (t.numel == 0) return;
  int dev = first.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  int64_t blocks = (t.numel + 255) / 256;
  if (blocks > 65536) blocks = 65536;
  VT_DISPATCH_FLOATING(dtype, op, [&]<class T>() {
    using D = dev_t<T>;
    cell_kernel<dev_opmath_t<D>, Element><<<unsigned(blocks), 256, 0, stream>>>(t.template args<D>(), t.numel);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

std::tuple<Tensor, Tensor, Tensor> fused_lstm_cell_cuda(const Tensor& xw, const Tensor& hw, const Tensor& c,
                                                        const std::optional<Tensor>& b_ih,
                                                        const std::optional<Tensor>& b_hh) {
  LstmCellForward t = lstm_cell_forward(xw, hw, c, b_ih, b_hh);
  launch<rnn_cell::LstmForwardAt>("_fused_lstm_cell", xw, xw.dtype(), t);
  return {t.h_new, t.c_new, t.ws};
}

std::tuple<Tensor, Tensor> fused_lstm_cell_backward_cuda(const Tensor& grad_h, const Tensor& grad_c, const Tensor& c,
                                                         const Tensor& c_new, const Tensor& workspace) {
  LstmCellBackward t = lstm_cell_backward(grad_h, grad_c, c, c_new, workspace);
  launch<rnn_cell::LstmBackwardAt>("_fused_lstm_cell_backward", workspace, workspace.dtype(), t);
  return {t.d_gates, t.dc};
}

std::tuple<Tensor, Tensor> fused_gru_cell_cuda(const Tensor& xw, const Tensor& hw, const Tensor& h,
                                               const std::optional<Tensor>& b_ih, const std::optional<Tensor>& b_hh) {
  GruCellForward t = gru_cell_forward(xw, hw, h, b_ih, b_hh);
  launch<rnn_cell::GruForwardAt>("_fused_gru_cell", xw, xw.dtype(), t);
  return {t.h_new, t.ws};
}

std::tuple<Tensor, Tensor, Tensor> fused_gru_cell_backward_cuda(const Tensor& grad_h, const Tensor& workspace) {
  GruCellBackward t = gru_cell_backward(grad_h, workspace);
  launch<rnn_cell::GruBackwardAt>("_fused_gru_cell_backward", workspace, workspace.dtype(), t);
  return {t.d_xw, t.d_hw, t.dh};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_lstm_cell", CUDA, fused_lstm_cell_cuda);
VT_REGISTER_KERNEL("vt::_fused_lstm_cell_backward", CUDA, fused_lstm_cell_backward_cuda);
VT_REGISTER_KERNEL("vt::_fused_gru_cell", CUDA, fused_gru_cell_cuda);
VT_REGISTER_KERNEL("vt::_fused_gru_cell_backward", CUDA, fused_gru_cell_backward_cuda);

}  // namespace vt::cuda_kernels
