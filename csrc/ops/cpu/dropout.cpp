// CPU dropout: the forward kernel, the masked forward (vt::native_dropout, used by autograd) and
// vt::dropout_backward.
#include <cmath>
#include <tuple>

#include "ops/dropout_args.h"
#include "ops/elementwise_util.h"
#include "ops/cpu/loops.h"
#include "ops/elementwise_util.h"
#include "ops/random/philox.h"

namespace vt::cpu {

// Note [Dropout]
// Element i of the (row-major) input is kept when uniform(seed, offset + i) < 1 - p, with
// offset a fresh range of numel counters reserved from the global Philox generator (Note
// [Philox streams]); so the mask depends on the seed and the number of numbers drawn before,
// not on threads. The output is input * mask * (1 / (1 - p)) and the gradient grad * mask *
// (1 / (1 - p)), with the bool mask saved by the autograd node. train=False or p == 0 returns
// the input itself; p == 1 gives zeros without drawing numbers.

namespace {

// uniform(seed, c) < keep compared on the integers: uniform is (bits >> 11) * 2^-53, so it is
// below keep exactly when bits >> 11 is below ceil(keep * 2^53).
template <class T>
void masked_scale(const T* x, T* out, bool* mask, int64_t n, uint64_t seed, uint64_t offset, double keep) {
  using A = opmath_t<T>;
  const uint64_t threshold = uint64_t(std::ceil(keep * 9007199254740992.0));
  const A scale = A(1.0 / keep);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain && !omp_in_parallel())
  for (int64_t i = 0; i < n; ++i) {
    bool k = (random::bits64(seed, offset + uint64_t(i)) >> 11) < threshold;
    mask[i] = k;
    out[i] = T(A(x[i]) * (A(k) * scale));  // a product, as torch: a dropped inf or nan gives nan
  }
}

// out = input * mask / (1 - p) and the bool mask, true where the element is kept; 0 < p < 1.
std::tuple<Tensor, Tensor> native_dropout_cpu(const Tensor& input, double p) {
  check_native_dropout_p(p);
  VT_CHECK(input.device().is_cpu(), "dropout: the CPU kernel got a tensor on ", input.device());
  check_dropout_input(input);
  Tensor x;
  {
    NoGradGuard no_grad;
    x = ops::contiguous(input);
  }
  Tensor out = empty_tensor(input.sizes(), input.dtype(), input.device());
  Tensor mask = empty_tensor(input.sizes(), DType::Bool, input.device());
  int64_t n = input.numel();
  uint64_t offset = random::reserve(uint64_t(n));
  uint64_t seed = random::seed();
  VT_DISPATCH_FLOATING(input.dtype(), "dropout", [&]<class T>() {
    masked_scale(x.data<T>(), out.data<T>(), mask.data<bool>(), n, seed, offset, 1.0 - p);
  });
  return {out, mask};
}

Tensor dropout_cpu(const Tensor& input, double p, bool train) { return dropout_with(input, p, train, native_dropout_cpu); }

// grad * mask * scale.
Tensor dropout_backward_cpu(const Tensor& grad, const Tensor& mask, double scale) {
  check_dropout_backward_args(grad, mask);
  Tensor out = empty_tensor(mask.sizes(), grad.dtype(), grad.device());
  VT_DISPATCH_FLOATING(grad.dtype(), "dropout_backward", [&]<class T>() {
    using A = opmath_t<T>;
    A s = A(scale);
    elementwise<T, T, bool>(out, {&grad, &mask}, [s](T g, bool k) { return A(g) * (A(k) * s); });
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::dropout", CPU, dropout_cpu);
VT_REGISTER_KERNEL("vt::native_dropout", CPU, native_dropout_cpu);
VT_REGISTER_KERNEL("vt::dropout_backward", CPU, dropout_backward_cpu);

}  // namespace vt::cpu
