#pragma once
// The per-element SGD update shared by the CPU and CUDA multi-tensor kernels, so both devices
// compute the same bits. See Note [Multi-tensor optimizer step].
#include "core/host_device.h"

namespace vt::optim {

// Scalars of one step of one parameter group.
struct SgdStep {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
  bool first_step;  // the momentum buffers are new: written, not read
};

// torch's single-tensor formulas: g = -g (maximize); g += wd*p; with momentum, buf = g on the
// first step, else buf = momentum*buf + (1-dampening)*g, and g = g + momentum*buf (Nesterov) or
// buf; p -= lr*g. buf is untouched without momentum.
template <class A>
VT_HOST_DEVICE inline void sgd_update(A& p, A g, A& buf, const SgdStep& s) {
  if (s.maximize) g = -g;
  if (s.weight_decay != 0) g = g + p * A(s.weight_decay);
  if (s.momentum != 0) {
    buf = s.first_step ? g : A(s.momentum) * buf + A(1.0 - s.dampening) * g;
    g = s.nesterov ? g + A(s.momentum) * buf : buf;
  }
  p = p - A(s.lr) * g;
}

}  // namespace vt::optim
