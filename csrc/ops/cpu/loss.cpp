// CPU kernels of nll_loss and nll_loss_backward (called by the autograd node of nll_loss).
#include <cstring>

#include "ops/elementwise_util.h"
#include "ops/nll_loss_args.h"
#include "ops/reduction_util.h"

namespace vt::cpu {
namespace {

NllShape check_nll(const char* op, const Tensor& self, const Tensor& target) {
  VT_CHECK(self.device().is_cpu(), op, ": the CPU kernel got a tensor on ", self.device());
  return check_nll_args(op, self, target);
}

Tensor contiguous_nograd(const Tensor& t) {
  NoGradGuard no_grad;
  return ops::contiguous(t);
}

// Every target is a class index or ignore_index; IndexError naming the first bad one.
int64_t check_targets(const char* op, const int64_t* t, int64_t n, int64_t C, int64_t ignore_index) {
  int64_t counted = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t c = t[k];
    if (c == ignore_index) continue;
    VT_CHECK_INDEX(c >= 0 && c < C, op, ": target ", c, " is out of bounds (expected a class index in [0, ", C,
                   ") or ignore_index=", ignore_index, ")");
    ++counted;
  }
  return counted;
}

Tensor nll_loss_cpu(const Tensor& self, const Tensor& target, int64_t ignore_index, const std::string& reduction) {
  const char* op = "nll_loss";
  LossReduction red = parse_loss_reduction(reduction, op);
  NllShape s = check_nll(op, self, target);
  Tensor x = contiguous_nograd(self), t = contiguous_nograd(target);
  const int64_t* tp = t.data<int64_t>();
  int64_t counted = check_targets(op, tp, s.N * s.D, s.C, ignore_index);
  Tensor out = empty_tensor(red == LossReduction::None ? DimVector(target.sizes()) : DimVector{}, self.dtype(), self.device());
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() {
    using A = opmath_t<T>;
    const T* xp = x.data<T>();
    if (red == LossReduction::None) {
      T* o = out.data<T>();
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t d = 0; d < s.D; ++d) {
          int64_t k = n * s.D + d, c = tp[k];
          o[k] = c == ignore_index ? T(A(0)) : T(-A(xp[(n * s.C + c) * s.D + d]));
        }
      return;
    }
    // The loss sums at most N * D terms: double keeps it exact enough for every input dtype.
    double total = 0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t d = 0; d < s.D; ++d) {
        int64_t c = tp[n * s.D + d];
        if (c != ignore_index) total -= double(A(xp[(n * s.C + c) * s.D + d]));
      }
    // mean over no counted target is 0/0 = nan, as in torch.
    *out.data<T>() = T(A(red == LossReduction::Mean ? total / double(counted) : total));
  });
  return out;
}

// The gradient of nll_loss with respect to self: -grad (scaled by 1 / the number of counted
// targets for "mean") at each target's class, zero elsewhere.
Tensor nll_loss_backward_cpu(const Tensor& grad_out, const Tensor& self, const Tensor& target, int64_t ignore_index,
                         const std::string& reduction) {
  const char* op = "nll_loss_backward";
  LossReduction red = parse_loss_reduction(reduction, op);
  NllShape s = check_nll(op, self, target);
  Tensor t = contiguous_nograd(target);
  const int64_t* tp = t.data<int64_t>();
  int64_t counted = check_targets(op, tp, s.N * s.D, s.C, ignore_index);
  Tensor g;
  {
    NoGradGuard no_grad;
    g = ops::contiguous(cast_to(grad_out, self.dtype()));
  }
  VT_CHECK_VALUE(g.numel() == (red == LossReduction::None ? s.N * s.D : 1), op, ": grad of shape ", shape_str(g.sizes()),
                 " does not match the loss");
  Tensor gi = empty_tensor(self.sizes(), self.dtype(), self.device());
  std::memset(gi.data_ptr(), 0, size_t(gi.numel() * itemsize(gi.dtype())));
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() {
    using A = opmath_t<T>;
    const T* gp = g.data<T>();
    T* o = gi.data<T>();
    A scale = A(gp[0]);
    if (red == LossReduction::Mean) scale = scale / A(counted);
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t d = 0; d < s.D; ++d) {
        int64_t k = n * s.D + d, c = tp[k];
        if (c != ignore_index) o[(n * s.C + c) * s.D + d] = T(-(red == LossReduction::None ? A(gp[k]) : scale));
      }
  });
  return gi;
}

}  // namespace

VT_REGISTER_KERNEL("vt::nll_loss", CPU, nll_loss_cpu);
VT_REGISTER_KERNEL("vt::nll_loss_backward", CPU, nll_loss_backward_cpu);

}  // namespace vt::cpu
