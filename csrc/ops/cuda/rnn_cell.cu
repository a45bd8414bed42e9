// CUDA kernels of the fused LSTM and GRU cells and their backwards: one elementwise launch each, a
// thread per element of the [N, H] state running ops/rnn_cell_math.h in float32 (float64 for
// float64), as the CPU kernels do (Note [Fused RNN cells] in ops/rnn_cell_args.h).
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "dispatch/dispatcher.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/rnn_cell_kernels.h"

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

// rnn_cell::CellKernels's Run: the element functor over every element of the call's operands t, on
// the first operand's device.
struct DeviceRun {
  template <class Element, class Operands> static void run(const char* op, const Tensor& first, const Operands& t) {
    check_cuda(op, first);
    if (t.numel == 0) return;
    int dev = first.device().index;
    cuda::DeviceGuard guard(dev);
    cudaStream_t stream = cuda::current_stream(dev).handle();
    int64_t blocks = (t.numel + 255) / 256;
    if (blocks > 65536) blocks = 65536;
    VT_DISPATCH_FLOATING(first.dtype(), op, [&]<class T>() {
      using D = dev_t<T>;
      cell_kernel<dev_opmath_t<D>, Element><<<unsigned(blocks), 256, 0, stream>>>(t.template args<D>(), t.numel);
      VT_CUDA_KERNEL_LAUNCH_CHECK();
    });
  }
};

using Cells = rnn_cell::CellKernels<DeviceRun>;

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_lstm_cell", CUDA, Cells::lstm);
VT_REGISTER_KERNEL("vt::_fused_lstm_cell_backward", CUDA, Cells::lstm_backward);
VT_REGISTER_KERNEL("vt::_fused_gru_cell", CUDA, Cells::gru);
VT_REGISTER_KERNEL("vt::_fused_gru_cell_backward", CUDA, Cells::gru_backward);

}  // namespace vt::cuda_kernels
