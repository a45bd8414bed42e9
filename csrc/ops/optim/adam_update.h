#pragma once
// The per-element Adam/AdamW update shared by the CPU and CUDA multi-tensor kernels, so both
// devices compute the same bits. See Note [Multi-tensor optimizer step].
#include <cmath>

#include "core/host_device.h"

namespace vt::optim {

// Scalars of one step of one parameter group, computed once on the host in double.
struct AdamStep {
  double lr, beta1, beta2, weight_decay, eps;
  double step_size;             // lr / (1 - beta1^step)
  double bias_correction2_sqrt; // sqrt(1 - beta2^step)
  bool decoupled, maximize, amsgrad;
};

// s with the bias corrections of step `step` (on the device too: Note [Capturable multi-tensor Adam]).
VT_HOST_DEVICE inline AdamStep adam_step_at(AdamStep s, double step) {
  using std::pow;
  using std::sqrt;
  s.step_size = s.lr / (1.0 - pow(s.beta1, step));
  s.bias_correction2_sqrt = sqrt(1.0 - pow(s.beta2, step));
  return s;
}

inline AdamStep make_adam_step(double lr, double beta1, double beta2, double weight_decay, double eps, double step,
                               bool decoupled, bool maximize, bool amsgrad) {
  return adam_step_at({lr, beta1, beta2, weight_decay, eps, 0.0, 0.0, decoupled, maximize, amsgrad}, step);
}

// torch's single-tensor formulas: decoupled decay p *= 1 - lr*wd (AdamW) or g += wd*p (Adam);
// m = m + (1-b1)(g-m); v = b2 v + (1-b2) g^2; amsgrad: v_max = max(v_max, v) replaces v below;
// p -= step_size * m / (sqrt(v)/bc2_sqrt + eps). v_max is untouched without amsgrad.
template <class A>
VT_HOST_DEVICE inline void adam_update(A& p, A g, A& m, A& v, A& v_max, const AdamStep& s) {
  using std::sqrt;
  if (s.maximize) g = -g;
  if (s.weight_decay != 0) {
    if (s.decoupled) p = p * A(1.0 - s.lr * s.weight_decay);
    else g = g + p * A(s.weight_decay);
  }
  m = m + A(1.0 - s.beta1) * (g - m);
  v = A(s.beta2) * v + A(1.0 - s.beta2) * g * g;
  if (s.amsgrad) v_max = v_max < v ? v : v_max;
  A denom = sqrt(s.amsgrad ? v_max : v) / A(s.bias_correction2_sqrt) + A(s.eps);
  p = p - A(s.step_size) * m / denom;
}

}  // namespace vt::optim
