#pragma once
// CPU dropout with a saved mask: the forward used by the autograd kernel (which keeps the mask
// for backward) and the fused backward. See Note [Dropout] in dropout.cpp.
#include "ops/ops.h"

namespace vt::cpu {

struct DropoutForward {
  Tensor out;   // input * mask / (1 - p)
  Tensor mask;  // bool, true where the element is kept
};

// 0 < p < 1; draws one Philox number per element.
DropoutForward dropout_with_mask(const Tensor& input, double p);
// grad * mask * scale.
Tensor dropout_backward(const Tensor& grad, const Tensor& mask, double scale);

}  // namespace vt::cpu
