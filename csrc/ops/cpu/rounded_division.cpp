// CPU kernels of div(rounding_mode='trunc' | 'floor') and remainder (ops/rounded_division.h).
#include "ops/cpu/loops.h"
#include "ops/elementwise_util.h"
#include "ops/rounded_division.h"
#include "ops/rounded_division_args.h"

namespace vt::cpu {
namespace {

// Integer division by zero has no value (and traps): refused before the loop, as torch does.
void check_no_integer_zero(const char* op, const Tensor& divisor) {
  if (is_floating(divisor.dtype())) return;
  Tensor zeros = ops::sum(ops::eq(divisor, ops::wrap_scalar(Scalar(int64_t(0)))), std::nullopt, false, std::nullopt);
  VT_CHECK(zeros.data<int64_t>()[0] == 0, op, ": integer division by zero (ZeroDivisionError)");
}

template <class F>
Tensor rounded_binary(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_same_device(op, {&a, &b});
  DType rt = rounded_result_dtype(op, a, b);
  Tensor ca = cast_to(a, rt), cb = cast_to(b, rt);
  check_no_integer_zero(op, cb);
  Tensor out = empty_tensor(broadcast_shapes(a.sizes(), b.sizes(), op), rt, a->is_wrapped_number ? b.device() : a.device());
  VT_DISPATCH_NUMERIC(rt, op, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T, T>(out, {&ca, &cb}, [=](T x, T y) { return T(f(M(x), M(y))); });
  });
  return out;
}

Tensor div_rounded_cpu(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  if (parse_rounding_mode(rounding_mode) == RoundingMode::Floor)
    return rounded_binary("div", a, b, [](auto x, auto y) { return rounding::floor_div(x, y); });
  return rounded_binary("div", a, b, [](auto x, auto y) { return rounding::trunc_div(x, y); });
}

Tensor remainder_cpu(const Tensor& a, const Tensor& b) {
  return rounded_binary("remainder", a, b, [](auto x, auto y) { return rounding::remainder(x, y); });
}

}  // namespace

VT_REGISTER_KERNEL("vt::div_rounded", CPU, div_rounded_cpu);
VT_REGISTER_KERNEL("vt::remainder", CPU, remainder_cpu);

}  // namespace vt::cpu
