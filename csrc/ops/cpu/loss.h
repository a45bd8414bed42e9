#pragma once
// CPU nll_loss: the forward kernel is registered in loss.cpp; the backward helper is called by
// the autograd node (ops/autograd/loss.cpp).
#include <string>

#include "ops/ops.h"

namespace vt::cpu {

// The gradient of nll_loss with respect to self: -grad (scaled by 1 / the number of counted
// targets for "mean") at each target's class, zero elsewhere.
Tensor nll_loss_backward(const Tensor& grad_out, const Tensor& self, const Tensor& target, int64_t ignore_index,
                         const std::string& reduction);

}  // namespace vt::cpu
