// Argument checks of nll_loss (see nll_loss_args.h).
#include "ops/nll_loss_args.h"

namespace vt {

NllShape check_nll_args(const char* op, const Tensor& self, const Tensor& target) {
  VT_CHECK(self.device() == target.device(), op, ": expected self and target on the same device, got ", self.device(),
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

}  // namespace vt
