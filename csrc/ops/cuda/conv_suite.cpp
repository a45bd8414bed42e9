// CUDA kernels of vt::_conv2d_suite and vt::_conv2d_suite_backward: the kernel suite's implicit-GEMM
// convolution (kernels/triton/conv.py, Note [Implicit GEMM convolution]) launched from C++. They answer
// None (an undefined tensor) where the "conv" family is not selected, the operands are ones its kernels
// lack, or a launch deferred its compile; vibetensor/nn/_conv.py then composes the convolution.
// Plain C++ (no device code): compiled into every build, the kernels only where VT_CUDA is on.
#if VT_CUDA
#include "cuda/device.h"
#include "core/shape.h"
#include "ops/ops.h"
#include "ops/suite/families.h"
#include "ops/window_size.h"

namespace vt::cuda_kernels {
namespace {

// The geometry of a convolution of contiguous NCHW input by weight [OC, C, KH, KW] (groups 1); the
// Python caller has checked the arguments as torch does, so a mismatch here is a caller's bug.
suite::ConvGeometry geometry(const char* op, const Tensor& x, const Tensor& weight, const IntList& stride,
                             const IntList& padding, const IntList& dilation) {
  VT_CHECK_VALUE(x.dim() == 4 && weight.dim() == 4 && weight.size(1) == x.size(1) && stride.size() == 2 &&
                     padding.size() == 2 && dilation.size() == 2,
                 op, ": expected a 4-d input [N, C, H, W], a weight [OC, C, KH, KW] and two strides, paddings and "
                 "dilations, got input ", shape_str(x.sizes()), " and weight ", shape_str(weight.sizes()));
  VT_CHECK_VALUE(x.device() == weight.device(), op, ": input on ", x.device(), " and weight on ", weight.device());
  suite::ConvGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), weight.size(2), weight.size(3),
                        0, 0, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  VT_CHECK_VALUE(g.sh > 0 && g.sw > 0 && g.dh > 0 && g.dw > 0 && g.ph >= 0 && g.pw >= 0, op,
                 ": expected positive stride and dilation and non-negative padding");
  g.oh = window_out_size(g.h, g.kh, g.sh, g.ph, g.dh);
  g.ow = window_out_size(g.w, g.kw, g.sw, g.pw, g.dw);
  VT_CHECK_VALUE(g.oh > 0 && g.ow > 0, op, ": the padded input is smaller than the dilated kernel");
  return g;
}

Tensor conv2d_suite(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, const IntList& stride,
                    const IntList& padding, const IntList& dilation) {
  suite::ConvGeometry g = geometry("_conv2d_suite", input, weight, stride, padding, dilation);
  if (!suite::conv2d_accepts(input, weight, g)) return Tensor();
  cuda::DeviceGuard guard(input.device().index);
  Tensor y = empty_tensor({g.n, g.oc, g.oh, g.ow}, input.dtype(), input.device());
  if (y.numel() == 0) return y;
  // A bias of another dtype or layout is added by the caller.
  const bool fuse_bias = bias && bias->defined() && bias->dtype() == input.dtype() && bias->dim() == 1 &&
                         bias->size(0) == g.oc && bias->device() == input.device();
  Tensor b = fuse_bias ? ops::contiguous(*bias) : Tensor();
  if (!suite::conv2d_forward(ops::contiguous(input), ops::contiguous(weight), b, y, g)) return Tensor();
  return (bias && bias->defined() && !fuse_bias) ? ops::add(y, ops::reshape(*bias, {1, -1, 1, 1}), 1) : y;
}

std::tuple<Tensor, Tensor> conv2d_suite_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                                 const IntList& stride, const IntList& padding, const IntList& dilation,
                                                 bool input_grad, bool weight_grad) {
  suite::ConvGeometry g = geometry("_conv2d_suite_backward", input, weight, stride, padding, dilation);
  VT_CHECK_VALUE(grad.dim() == 4 && grad.size(0) == g.n && grad.size(1) == g.oc && grad.size(2) == g.oh &&
                     grad.size(3) == g.ow,
                 "_conv2d_suite_backward: expected a gradient of shape [", g.n, ", ", g.oc, ", ", g.oh, ", ", g.ow,
                 "], got ", shape_str(grad.sizes()));
  if (!suite::conv2d_accepts(input, weight, g) || grad.dtype() != input.dtype()) return {Tensor(), Tensor()};
  cuda::DeviceGuard guard(input.device().index);
  Tensor dy = ops::contiguous(grad);
  Tensor dx, dw;
  if (input_grad) {
    dx = empty_tensor({g.n, g.c, g.h, g.w}, input.dtype(), input.device());
    if (dx.numel() != 0 && !suite::conv2d_input_grad(dy, ops::contiguous(weight), dx, g)) dx = Tensor();
  }
  if (weight_grad) {
    const int64_t split_len = suite::conv2d_wgrad_split_len(dy, g);
    const int64_t splits = (g.n * g.oh * g.ow + split_len - 1) / split_len;
    Tensor partial = empty_tensor({splits, g.oc, g.c * g.kh * g.kw}, DType::Float32, input.device());
    if (g.n * g.oh * g.ow == 0) {
      dw = ops::full(IntList(weight.sizes().begin(), weight.sizes().end()), 0, weight.dtype(), weight.device());
    } else if (suite::conv2d_weight_grad(dy, ops::contiguous(input), partial, split_len, g)) {
      Tensor sum = splits == 1 ? partial : ops::sum(partial, IntList{0}, false, std::nullopt);
      dw = ops::reshape(sum.dtype() == weight.dtype() ? sum : ops::to_dtype(sum, weight.dtype()),
                       IntList(weight.sizes().begin(), weight.sizes().end()));
    }
  }
  return {dx, dw};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_conv2d_suite", CUDA, conv2d_suite);
VT_REGISTER_KERNEL("vt::_conv2d_suite_backward", CUDA, conv2d_suite_backward);

}  // namespace vt::cuda_kernels
#endif  // VT_CUDA
