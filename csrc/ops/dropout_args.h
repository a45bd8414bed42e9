#pragma once
// Argument checks of dropout, native_dropout and dropout_backward, and the cases of dropout that
// draw no mask, shared by the CPU and CUDA kernels (Note [Dropout] in ops/cpu/dropout.cpp).
#include "ops/ops.h"

namespace vt {

inline void check_dropout_p(double p) {
  VT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "dropout: probability has to be between 0 and 1, but got ", p);
}

inline void check_dropout_input(const Tensor& input) {
  VT_CHECK_TYPE(is_floating(input.dtype()), "dropout: expected a floating point tensor, got ", input.dtype());
}

// native_dropout draws a mask, so 0 < p < 1.
inline void check_native_dropout_p(double p) {
  check_dropout_p(p);
  VT_CHECK_VALUE(p > 0.0 && p < 1.0, "native_dropout: expected 0 < p < 1 (p = 0 and p = 1 draw no mask), got ", p);
}

// grad (floating) and the bool mask: one shape, one device.
inline void check_dropout_backward_args(const Tensor& grad, const Tensor& mask) {
  VT_CHECK(mask.device() == grad.device(), "dropout_backward: expected the mask on the grad's device ", grad.device(),
           ", got ", mask.device());
  VT_CHECK_VALUE(DimVector(grad.sizes()) == DimVector(mask.sizes()), "dropout_backward: grad of shape ",
                 shape_str(grad.sizes()), " does not match the mask of shape ", shape_str(mask.sizes()));
  VT_CHECK_TYPE(mask.dtype() == DType::Bool, "dropout_backward: expected a bool mask, got ", mask.dtype());
  VT_CHECK_TYPE(is_floating(grad.dtype()), "dropout_backward: expected a floating point grad, got ", grad.dtype());
}

// dropout(input, p, train) of a device whose native_dropout is `native`: the input itself when
// nothing is dropped, zeros when everything is, else native's output.
template <class NativeDropout>
Tensor dropout_with(const Tensor& input, double p, bool train, NativeDropout native) {
  check_dropout_p(p);
  if (!train || p == 0.0) return input;
  check_dropout_input(input);
  if (p == 1.0) return ops::zeros(DimVector(input.sizes()).vec(), input.dtype(), input.device());
  return std::get<0>(native(input, p));
}

}  // namespace vt
