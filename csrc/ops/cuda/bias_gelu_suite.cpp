// CUDA kernels of vt::bias_gelu and its backward (Note [Bias GELU] in ops/bias_gelu.h): the suite's
// Triton kernels (kernels/triton/gelu.py) launched from C++ when the "gelu" family is selected, else
// (float64, or a launch that defers its compile) the math on ops.
// Plain C++ (no device code): compiled into every build, the kernels only where VT_CUDA is on.
#if VT_CUDA
#include <utility>

#include "cuda/device.h"
#include "dispatch/dispatcher.h"
#include "ops/bias_gelu.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

// t seen as the kernels' row-major [rows, cols] with unit column stride: t itself with its row
// stride when its leading dims fold into one stride (a column slice, a transposed batch of whole
// rows), else a contiguous copy.
std::pair<Tensor, int64_t> as_rows(const Tensor& t) {
  const int64_t d = t.dim(), cols = t.size(d - 1);
  if (cols == 1 || t.stride(d - 1) == 1) {
    int64_t row_stride = -1, span = 0;  // span: the elements the dims folded so far step over
    bool folds = true;
    for (int64_t i = d - 2; i >= 0 && folds; --i) {
      if (t.size(i) == 1) continue;
      if (row_stride < 0) {
        row_stride = t.stride(i);
      } else {
        folds = t.stride(i) == span;
      }
      span = t.stride(i) * t.size(i);
    }
    if (folds) return {t, row_stride < 0 ? cols : row_stride};
  }
  return {ops::contiguous(t), cols};
}

Tensor bias_gelu_cuda(const Tensor& self, const Tensor& bias, const std::string& approximate) {
  BiasGeluArgs a = check_bias_gelu_args("bias_gelu", self, bias, approximate);
  if (suite::selected("gelu")) {
    cuda::DeviceGuard guard(self.device().index);
    Tensor y = empty_tensor(DimVector(self.sizes()), self.dtype(), self.device());
    auto [x, x_stride] = as_rows(self);
    if (y.numel() == 0 || suite::bias_gelu_forward(x, x_stride, ops::contiguous(bias), y, a.rows, a.cols, a.tanh))
      return y;
  }
  return bias_gelu_math(self, bias, approximate);
}

std::tuple<Tensor, Tensor> bias_gelu_backward_cuda(const Tensor& grad, const Tensor& self, const Tensor& bias,
                                                   const std::string& approximate) {
  BiasGeluArgs a = check_bias_gelu_backward_args("bias_gelu_backward", grad, self, bias, approximate);
  // An empty input's dbias is zeros, which the math path gives without a launch.
  if (suite::selected("gelu") && self.numel() != 0) {
    cuda::DeviceGuard guard(self.device().index);
    auto [x, x_stride] = as_rows(self);
    auto [dy, dy_stride] = as_rows(grad.dtype() == self.dtype() ? grad : ops::to_dtype(grad, self.dtype()));
    Tensor dx = empty_tensor(DimVector(self.sizes()), self.dtype(), self.device());
    Tensor db = empty_tensor({a.cols}, bias.dtype(), self.device());
    if (suite::bias_gelu_backward(x, x_stride, ops::contiguous(bias), dy, dy_stride, dx, db, a.rows, a.cols, a.tanh))
      return {dx, db};
  }
  return bias_gelu_math_backward(grad, self, bias, approximate);
}

}  // namespace

VT_REGISTER_KERNEL("vt::bias_gelu", CUDA, bias_gelu_cuda);
VT_REGISTER_KERNEL("vt::bias_gelu_backward", CUDA, bias_gelu_backward_cuda);

}  // namespace vt::cuda_kernels
#endif  // VT_CUDA
