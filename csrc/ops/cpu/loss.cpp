// CPU kernels of nll_loss: the forward kernel and the backward helper of its autograd node.
#include "ops/cpu/loss.h"

#include <cstring>

#include "ops/cpu/elementwise_util.h"
#include "ops/reduction_util.h"

namespace vt::cpu {
namespace {

// self is (C), (N, C) or (N, C, d1, ...) with target (), (N) or (N, d1, ...); both are viewed as
// [N, C, D] and [N, D], D the product of the extra dims.
struct NllShape {
  int64_t N = 1, C = 1, D = 1;
};

NllShape check_nll(const char* op, const Tensor& self, const Tensor& target) {
  VT_CHECK(self.device().is_cpu() && target.device().is_cpu(), op, ": the CPU kernel got tensors on ", self.device(),
           " and ", target.device());
  VT_CHECK_TYPE(is_floating(self.dtype()), op, ": expected a floating point input, got ", self.dtype());
  VT_CHECK_TYPE(target.dtype() == DType::Int64, op, ": expected a target of class indices with dtype int64, got ",
                target.dtype());
  VT_CHECK_VALUE(self.dim() >= 1, op, ": expected an input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d tensor");
  NllShape s;
  if (self.dim() == 1) {
    VT_CHECK_VALUE(target.dim() == 0, op, ": expected a 0-d target for an input of shape ", shape_str(self.sizes()),
                   ", got a target of shape ", shape_str(target.sizes()));
    s.C = self.sizes()[0];
    return s;
  }
  s.N = self.sizes()[0];
  s.C = self.sizes()[1];
  DimVector expected{s.N};
  for (int64_t i = 2; i < self.dim(); ++i) { expected.push_back(self.sizes()[i]); s.D *= self.sizes()[i]; }
  VT_CHECK_VALUE(target.dim() == 0 || target.sizes()[0] == s.N, op, ": expected input batch_size (", s.N,
                 ") to match target batch_size (", target.sizes()[0], ")");
  VT_CHECK_VALUE(DimVector(target.sizes()) == expected, op, ": expected a target of shape ", shape_str(expected),
                 " for an input of shape ", shape_str(self.sizes()), ", got ", shape_str(target.sizes()));
  return s;
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

}  // namespace

Tensor nll_loss_backward(const Tensor& grad_out, const Tensor& self, const Tensor& target, int64_t ignore_index,
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

VT_REGISTER_KERNEL("vt::nll_loss", CPU, nll_loss_cpu);

}  // namespace vt::cpu
