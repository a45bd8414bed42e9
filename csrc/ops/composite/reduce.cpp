// Composite reductions: var, written with mean, sum and elementwise ops (autograd flows
// through them).
#include "ops/reduction_util.h"

namespace vt::composite {
namespace {

// Two passes (mean, then the sum of squared deviations) for accuracy; 16-bit inputs are
// computed in float32 and the result converted back, as torch does.
Tensor var(const Tensor& self, const std::optional<IntList>& dim, int64_t correction, bool keepdim) {
  VT_CHECK_TYPE(is_floating(self.dtype()), "var: only floating point dtypes are supported, got ", self.dtype());
  ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, "var");
  bool low_precision = self.dtype() == DType::Float16 || self.dtype() == DType::BFloat16;
  Tensor x = low_precision ? ops::to_dtype(self, DType::Float32) : self;
  Tensor centered = ops::sub(x, ops::mean(x, dim, true, std::nullopt), Scalar(int64_t(1)));
  Tensor ss = ops::sum(ops::mul(centered, centered), dim, keepdim, std::nullopt);
  // As torch: a non-positive divisor gives inf (or nan for 0/0) rather than an error.
  double divisor = double(std::max<int64_t>(0, rd.count - correction));
  Tensor v = ops::div(ss, ops::wrap_scalar(Scalar(divisor)));
  return low_precision ? ops::to_dtype(v, self.dtype()) : v;
}

}  // namespace

VT_REGISTER_KERNEL("vt::var", Composite, var);

}  // namespace vt::composite
