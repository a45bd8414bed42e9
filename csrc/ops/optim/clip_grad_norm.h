#pragma once
// vt::_fused_clip_grad_norm_: the gradients' joint 2-norm and their scaling, in a few launches and
// without a host sync. See Note [Multi-tensor gradient clipping].
#include "core/host_device.h"
#include "ops/ops.h"

namespace vt::optim {

// Note [Multi-tensor gradient clipping]
// torch.nn.utils.clip_grad_norm_ on CUDA takes the per-tensor norms in one foreach launch, their norm,
// the coefficient max_norm / (norm + 1e-6) clamped to 1, and scales every gradient by it in another
// foreach launch: a handful of launches and no host sync. VibeTensor-style composed clipping (the
// per-parameter path of vibetensor/nn/utils/clip_grad.py) launches a norm per gradient, a stack, a norm,
// three scalar ops and a multiply per gradient. vt::_fused_clip_grad_norm_ is torch's counterpart,
// taken under optim.step=multi_tensor: one list of gradients of one dtype on one device, scaled in
// place, the joint norm returned as a 0-d tensor of the opmath dtype (float32, float64 for float64
// gradients) on their device. On CUDA it is three launches: the sum of squares of every chunk of every
// gradient into a buffer of partial sums, one block summing them into [norm, coefficient] on the device,
// and the scaling by the coefficient read there (skipped when it is 1, which leaves the gradients as
// x * 1 would). Every sum runs in a fixed order, so the result is the same run to run; it is the
// joint norm of the elements, where torch takes the norm of the per-tensor norms (equal up to rounding).
// A non-finite norm gives NaN or zero coefficients as torch's formula does. With kernels.backend=triton
// the same three steps are the suite's optim family (kernels/triton/optim.py: sumsq_multi,
// clip_coef, scale_multi) over a chunk table of the gradients.

// The checks of vt::_fused_clip_grad_norm_: floating gradients of one dtype on one device, contiguous.
void check_clip_grads(const TensorList& grads, double max_norm);

// The clipping coefficient of torch's formula from the joint norm (NaN stays NaN: the comparison fails).
template <class A>
VT_HOST_DEVICE inline A clip_coef(A norm, A max_norm) {
  A c = max_norm / (norm + A(1e-6));
  return c > A(1) ? A(1) : c;
}

}  // namespace vt::optim
