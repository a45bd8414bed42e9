// See rotary.h and Note [Rotary embedding] there.
#include "ops/rotary.h"

#include "ops/type_promotion.h"

namespace vt {

RotaryArgs check_rotary_args(const char* op, const Tensor& self, const Tensor& cos, const Tensor& sin) {
  for (const Tensor* t : {&cos, &sin})
    VT_CHECK(t->device() == self.device(), op, ": expected cos and sin on the input's device ", self.device(), ", got ",
             t->device());
  VT_CHECK_TYPE(is_floating(self.dtype()), op, ": expected a floating point input, got ", self.dtype());
  VT_CHECK_TYPE(is_floating(cos.dtype()) && cos.dtype() == sin.dtype(), op,
                ": expected cos and sin of one floating point dtype, got ", cos.dtype(), " and ", sin.dtype());
  VT_CHECK_VALUE(self.dim() >= 2 && self.size(-1) % 2 == 0 && self.size(-1) >= 2, op,
                 ": expected an input of shape (..., T, D) with an even D, got ", shape_str(self.sizes()));
  RotaryArgs a;
  a.T = self.size(-2);
  a.D = self.size(-1);
  DimVector want{a.T, a.D / 2};
  VT_CHECK_VALUE(DimVector(cos.sizes()) == want && DimVector(sin.sizes()) == want, op, ": expected cos and sin of shape ",
                 shape_str(want), " for an input of shape ", shape_str(self.sizes()), ", got ", shape_str(cos.sizes()),
                 " and ", shape_str(sin.sizes()));
  a.out = result_type(self, cos);
  return a;
}

Tensor rotary_math(const Tensor& self, const Tensor& cos, const Tensor& sin, bool inverse) {
  int64_t last = self.dim() - 1, half = self.size(-1) / 2;
  Scalar one(int64_t(1));
  Tensor x1 = ops::narrow(self, last, 0, half), x2 = ops::narrow(self, last, half, half);
  Tensor s = inverse ? ops::neg(sin) : sin;
  return ops::cat({ops::sub(ops::mul(x1, cos), ops::mul(x2, s), one), ops::add(ops::mul(x1, s), ops::mul(x2, cos), one)},
                  last);
}

}  // namespace vt
