// CPU kernels: elementwise arithmetic, comparisons, unary math, their in-place forms.
#include <cmath>
#include <optional>

#include "ops/cpu/fast_math.h"
#include "ops/cpu/loops.h"
#include "ops/elementwise_util.h"
#include "ops/sub_check.h"

namespace vt::cpu {
namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;

// out = f(a, b) over the broadcast of a and b, both already of out's dtype.
template <class F>
void binary_into(const char* name, const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  VT_DISPATCH_ALL(out.dtype(), name, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T, T>(out, {&a, &b}, [=](T x, T y) { return f(M(x), M(y)); });
  });
}

enum class Promote { Same, IntToFloat };

template <class F>
Tensor binary(const char* name, const Tensor& a, const Tensor& b, F f, Promote promote = Promote::Same) {
  check_same_device(name, {&a, &b});
  DType rt = result_type(a, b);
  if (promote == Promote::IntToFloat && !is_floating(rt)) rt = default_float_dtype();
  Tensor out = empty_tensor(broadcast_shapes(a.sizes(), b.sizes(), name), rt, a->is_wrapped_number ? b.device() : a.device());
  binary_into(name, out, cast_to(a, rt), cast_to(b, rt), f);
  return out;
}

template <class F>
const Tensor& binary_inplace(const char* name, const Tensor& self, const Tensor& other, F f) {
  check_same_device(name, {&self, &other});
  DType rt = result_type(self, other);
  check_inplace(name, self, broadcast_shapes(self.sizes(), other.sizes(), name), rt);
  binary_into(name, self, self, cast_to(other, self.dtype()), f);
  self->bump_version();
  return self;
}

template <class F>
Tensor compare(const char* name, const Tensor& a, const Tensor& b, F f) {
  check_same_device(name, {&a, &b});
  DType ct = result_type(a, b);
  Tensor out = empty_tensor(broadcast_shapes(a.sizes(), b.sizes(), name), DType::Bool, a->is_wrapped_number ? b.device() : a.device());
  Tensor ca = cast_to(a, ct), cb = cast_to(b, ct);
  VT_DISPATCH_ALL(ct, name, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<bool, T, T>(out, {&ca, &cb}, [=](T x, T y) { return f(M(x), M(y)); });
  });
  return out;
}

// Unary ops on floats; integer inputs give the default float dtype as in torch.
template <class F>
Tensor unary_float(const char* name, const Tensor& a, F f) {
  DType rt = is_floating(a.dtype()) ? a.dtype() : default_float_dtype();
  Tensor in = cast_to(a, rt);
  Tensor out = empty_tensor(a.sizes(), rt, a.device());
  VT_DISPATCH_FLOATING(rt, name, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T>(out, {&in}, [=](T x) { return f(M(x)); });
  });
  return out;
}

template <class F>
Tensor unary_numeric(const char* name, const Tensor& a, F f) {
  Tensor out = empty_tensor(a.sizes(), a.dtype(), a.device());
  VT_DISPATCH_NUMERIC(a.dtype(), name, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T>(out, {&a}, [=](T x) { return f(M(x)); });
  });
  return out;
}

// The approximation is a template argument: a runtime flag, even a constant one, can leave the erf
// branch in the loop body, and a loop with a branch does not vectorize.
template <bool TanhApprox, class M> [[gnu::always_inline]] inline M gelu_value(M x) {
  if constexpr (TanhApprox) {
    M inner = M(kSqrt2OverPi) * (x + M(0.044715) * x * x * x);
    return M(0.5) * x * (M(1) + vtanh(inner));
  }
  return M(0.5) * x * (M(1) + verf(x * M(kInvSqrt2)));
}

template <bool TanhApprox, class M> [[gnu::always_inline]] inline M gelu_grad(M x) {
  if constexpr (TanhApprox) {
    M x2 = x * x;
    M inner = M(kSqrt2OverPi) * (x + M(0.044715) * x2 * x);
    M t = vtanh(inner);
    M dinner = M(kSqrt2OverPi) * (M(1) + M(3 * 0.044715) * x2);
    return M(0.5) * (M(1) + t) + M(0.5) * x * (M(1) - t * t) * dinner;
  }
  M cdf = M(0.5) * (M(1) + verf(x * M(kInvSqrt2)));
  M pdf = vexp(M(-0.5) * x * x) * M(0.3989422804014327);
  return cdf + x * pdf;
}

bool parse_gelu_approximate(const std::string& a) {
  VT_CHECK_VALUE(a == "none" || a == "tanh", "gelu: approximate must be 'none' or 'tanh', got '", a, "'");
  return a == "tanh";
}

template <class M> M int_pow(M base, M exp) {
  if constexpr (std::is_floating_point_v<M>) {
    return std::pow(base, exp);
  } else if constexpr (std::is_same_v<M, bool>) {
    return base || !exp;
  } else {
    if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
    M r = 1;
    while (exp) { if (exp & 1) r *= base; base *= base; exp >>= 1; }
    return r;
  }
}

// ---- binary arithmetic -------------------------------------------------------------------

Tensor add_cpu(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  if (alpha.to_double() == 1.0)
    return binary("add", a, b, [](auto x, auto y) { return x + y; });
  double al = alpha.to_double();
  return binary("add", a, b, [al](auto x, auto y) { return x + decltype(x)(al) * y; });
}
Tensor sub_cpu(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_sub_operands("sub", a, b);
  double al = alpha.to_double();
  return binary("sub", a, b, [al](auto x, auto y) { return x - decltype(x)(al) * y; });
}
Tensor mul_cpu(const Tensor& a, const Tensor& b) {
  return binary("mul", a, b, [](auto x, auto y) { return x * y; });
}
Tensor div_cpu(const Tensor& a, const Tensor& b) {
  return binary("div", a, b, [](auto x, auto y) { return x / y; }, Promote::IntToFloat);
}
// Note [Scalar exponents]
// x ** 2 (RMSNorm written as x.pow(2).mean(-1)), x ** 0.5 and friends are common in model code;
// std::pow per element is several times slower than the multiply or root it stands for. As torch's
// pow_tensor_scalar kernel does, a Python-number exponent of 2, 3, -2, 0.5, -0.5 or -1 on a
// floating tensor takes that operation instead (exact for 2, 3 and 1; sqrt is correctly rounded,
// so 0.5 agrees with std::pow; the others round as torch's do). The backward of a scalar
// exponent is scalar arithmetic too (PowBackward, csrc/autograd/formulas/elementwise.cpp).
std::optional<double> wrapped_exponent(const Tensor& b) {
  if (!b->is_wrapped_number) return std::nullopt;
  if (b.dtype() == DType::Float64) return *b.data<double>();
  if (b.dtype() == DType::Int64) return double(*b.data<int64_t>());
  return std::nullopt;
}

Tensor pow_cpu(const Tensor& a, const Tensor& b) {
  if (std::optional<double> e = wrapped_exponent(b); e && is_floating(result_type(a, b))) {
    auto with = [&](auto f) { return binary("pow", a, b, [f](auto x, auto) { return f(x); }); };
    if (*e == 2.0) return with([](auto x) { return x * x; });
    if (*e == 3.0) return with([](auto x) { return x * x * x; });
    if (*e == -2.0) return with([](auto x) { return decltype(x)(1) / (x * x); });
    if (*e == 0.5) return with([](auto x) { return std::sqrt(x); });
    if (*e == -0.5) return with([](auto x) { return decltype(x)(1) / std::sqrt(x); });
    if (*e == -1.0) return with([](auto x) { return decltype(x)(1) / x; });
  }
  return binary("pow", a, b, [](auto x, auto y) { return int_pow(x, y); });
}
Tensor maximum_cpu(const Tensor& a, const Tensor& b) {
  return binary("maximum", a, b, [](auto x, auto y) { return (x != x || x > y) ? x : y; });
}
Tensor minimum_cpu(const Tensor& a, const Tensor& b) {
  return binary("minimum", a, b, [](auto x, auto y) { return (x != x || x < y) ? x : y; });
}

Tensor eq_cpu(const Tensor& a, const Tensor& b) { return compare("eq", a, b, [](auto x, auto y) { return x == y; }); }
Tensor ne_cpu(const Tensor& a, const Tensor& b) { return compare("ne", a, b, [](auto x, auto y) { return x != y; }); }
Tensor lt_cpu(const Tensor& a, const Tensor& b) { return compare("lt", a, b, [](auto x, auto y) { return x < y; }); }
Tensor le_cpu(const Tensor& a, const Tensor& b) { return compare("le", a, b, [](auto x, auto y) { return x <= y; }); }
Tensor gt_cpu(const Tensor& a, const Tensor& b) { return compare("gt", a, b, [](auto x, auto y) { return x > y; }); }
Tensor ge_cpu(const Tensor& a, const Tensor& b) { return compare("ge", a, b, [](auto x, auto y) { return x >= y; }); }
Tensor logical_and_cpu(const Tensor& a, const Tensor& b) {
  return compare("logical_and", a, b, [](auto x, auto y) { return bool(x) && bool(y); });
}
Tensor logical_or_cpu(const Tensor& a, const Tensor& b) {
  return compare("logical_or", a, b, [](auto x, auto y) { return bool(x) || bool(y); });
}

Tensor where_cpu(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", {&cond, &a, &b});
  VT_CHECK_TYPE(cond.dtype() == DType::Bool, "where: expected condition to be a bool tensor, got ", cond.dtype());
  DType rt = result_type(a, b);
  DimVector shape = broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor out = empty_tensor(shape, rt, cond.device().is_cuda() ? cond.device() : (a->is_wrapped_number ? b.device() : a.device()));
  Tensor ca = cast_to(a, rt), cb = cast_to(b, rt);
  VT_DISPATCH_ALL(rt, "where", [&]<class T>() {
    elementwise<T, bool, T, T>(out, {&cond, &ca, &cb}, [](bool c, T x, T y) { return c ? x : y; });
  });
  return out;
}

Tensor masked_fill_cpu(const Tensor& self, const Tensor& mask, const Scalar& value) {
  VT_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_fill: expected mask to be a bool tensor, got ", mask.dtype());
  check_same_device("masked_fill", {&self, &mask});
  DimVector shape = broadcast_shapes(self.sizes(), mask.sizes(), "masked_fill");
  VT_CHECK_VALUE(shape == DimVector(self.sizes()), "masked_fill: mask of shape ", shape_str(mask.sizes()),
                 " must broadcast to the tensor's shape ", shape_str(self.sizes()));
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  double v = value.to_double();
  VT_DISPATCH_ALL(self.dtype(), "masked_fill", [&]<class T>() {
    T tv = T(opmath_t<T>(v));
    elementwise<T, T, bool>(out, {&self, &mask}, [tv](T x, bool m) { return m ? tv : x; });
  });
  return out;
}

// ---- unary ------------------------------------------------------------------------------

Tensor neg_cpu(const Tensor& a) {
  VT_CHECK_TYPE(a.dtype() != DType::Bool, "neg: negation of a bool tensor is not supported; use logical_not instead");
  return unary_numeric("neg", a, [](auto x) { return -x; });
}
// -0 gives +0, as torch and fabs do (x < 0 alone keeps the sign of -0).
Tensor abs_cpu(const Tensor& a) {
  return unary_numeric("abs", a, [](auto x) { return x < 0 ? decltype(x)(-x) : x == 0 ? decltype(x)(0) : x; });
}
Tensor exp_cpu(const Tensor& a) { return unary_float("exp", a, [](auto x) { return vexp(x); }); }
Tensor log_cpu(const Tensor& a) { return unary_float("log", a, [](auto x) { return std::log(x); }); }
Tensor sqrt_cpu(const Tensor& a) { return unary_float("sqrt", a, [](auto x) { return std::sqrt(x); }); }
Tensor rsqrt_cpu(const Tensor& a) {
  return unary_float("rsqrt", a, [](auto x) { return decltype(x)(1) / std::sqrt(x); });
}
Tensor sin_cpu(const Tensor& a) { return unary_float("sin", a, [](auto x) { return std::sin(x); }); }
Tensor cos_cpu(const Tensor& a) { return unary_float("cos", a, [](auto x) { return std::cos(x); }); }
Tensor tanh_cpu(const Tensor& a) { return unary_float("tanh", a, [](auto x) { return vtanh(x); }); }
Tensor sigmoid_cpu(const Tensor& a) {
  return unary_float("sigmoid", a, [](auto x) { return decltype(x)(1) / (decltype(x)(1) + vexp(-x)); });
}
Tensor relu_cpu(const Tensor& a) {
  VT_CHECK_TYPE(a.dtype() != DType::Bool, "relu: not supported for bool tensors");
  return unary_numeric("relu", a, [](auto x) { return x > 0 ? x : decltype(x)(0); });
}
Tensor logical_not_cpu(const Tensor& a) {
  Tensor out = empty_tensor(a.sizes(), DType::Bool, a.device());
  VT_DISPATCH_ALL(a.dtype(), "logical_not", [&]<class T>() {
    elementwise<bool, T>(out, {&a}, [](T x) { return !bool(opmath_t<T>(x)); });
  });
  return out;
}
Tensor gelu_cpu(const Tensor& a, const std::string& approximate) {
  bool t = parse_gelu_approximate(approximate);
  VT_CHECK_TYPE(is_floating(a.dtype()), "gelu: expected a floating tensor, got ", a.dtype());
  // Two loops rather than one with a per-element branch, so each vectorizes.
  if (t) return unary_float("gelu", a, [](auto x) { return gelu_value<true>(x); });
  return unary_float("gelu", a, [](auto x) { return gelu_value<false>(x); });
}
Tensor clamp_cpu(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  VT_CHECK_VALUE(lo || hi, "clamp: at least one of 'min' or 'max' must not be None");
  double l = lo.value_or(-INFINITY), h = hi.value_or(INFINITY);
  return unary_numeric("clamp", a, [l, h](auto x) {
    using M = decltype(x);
    if (x != x) return x;
    if constexpr (std::is_floating_point_v<M>) return std::min(std::max(x, M(l)), M(h));
    else return M(std::min(std::max(double(x), l), h));
  });
}

Tensor gelu_backward_cpu(const Tensor& grad, const Tensor& self, const std::string& approximate) {
  bool t = parse_gelu_approximate(approximate);
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  VT_DISPATCH_FLOATING(self.dtype(), "gelu_backward", [&]<class T>() {
    using M = opmath_t<T>;
    if (t) elementwise<T, T, T>(out, {&grad, &self}, [](T g, T x) { return M(g) * gelu_grad<true>(M(x)); });
    else elementwise<T, T, T>(out, {&grad, &self}, [](T g, T x) { return M(g) * gelu_grad<false>(M(x)); });
  });
  return out;
}
Tensor threshold_backward_cpu(const Tensor& grad, const Tensor& self, double threshold) {
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  VT_DISPATCH_NUMERIC(self.dtype(), "threshold_backward", [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T, T>(out, {&grad, &self}, [threshold](T g, T x) { return M(x) > M(threshold) ? M(g) : M(0); });
  });
  return out;
}

// ---- in-place -----------------------------------------------------------------------------

Tensor add__cpu(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  double al = alpha.to_double();
  return binary_inplace("add_", self, other, [al](auto x, auto y) { return x + decltype(x)(al) * y; });
}
Tensor sub__cpu(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  check_sub_operands("sub_", self, other);
  double al = alpha.to_double();
  return binary_inplace("sub_", self, other, [al](auto x, auto y) { return x - decltype(x)(al) * y; });
}
Tensor mul__cpu(const Tensor& self, const Tensor& other) {
  return binary_inplace("mul_", self, other, [](auto x, auto y) { return x * y; });
}
Tensor div__cpu(const Tensor& self, const Tensor& other) {
  VT_CHECK_TYPE(is_floating(self.dtype()), "div_: result type Float can't be cast to the desired output type ", self.dtype());
  return binary_inplace("div_", self, other, [](auto x, auto y) { return x / y; });
}

template <class F>
Tensor ternary_inplace(const char* name, const Tensor& self, const Tensor& t1, const Tensor& t2, F f) {
  check_same_device(name, {&self, &t1, &t2});
  DimVector shape = broadcast_shapes(broadcast_shapes(self.sizes(), t1.sizes(), name), t2.sizes(), name);
  check_inplace(name, self, shape, result_type(self, t1, t2));
  Tensor c1 = cast_to(t1, self.dtype()), c2 = cast_to(t2, self.dtype());
  VT_DISPATCH_FLOATING(self.dtype(), name, [&]<class T>() {
    using M = opmath_t<T>;
    elementwise<T, T, T, T>(self, {&self, &c1, &c2}, [=](T s, T a, T b) { return f(M(s), M(a), M(b)); });
  });
  self->bump_version();
  return self;
}
Tensor addcmul__cpu(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  double v = value.to_double();
  return ternary_inplace("addcmul_", self, t1, t2, [v](auto s, auto a, auto b) { return s + decltype(s)(v) * a * b; });
}
Tensor addcdiv__cpu(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  double v = value.to_double();
  return ternary_inplace("addcdiv_", self, t1, t2, [v](auto s, auto a, auto b) { return s + decltype(s)(v) * a / b; });
}
Tensor clamp__cpu(const Tensor& self, std::optional<double> lo, std::optional<double> hi) {
  Tensor r = clamp_cpu(self, lo, hi);
  return ops::copy_(self, r, false);
}
Tensor masked_fill__cpu(const Tensor& self, const Tensor& mask, const Scalar& value) {
  Tensor r = masked_fill_cpu(self, mask, value);
  return ops::copy_(self, r, false);
}

}  // namespace

VT_REGISTER_KERNEL("vt::add", CPU, add_cpu);
VT_REGISTER_KERNEL("vt::sub", CPU, sub_cpu);
VT_REGISTER_KERNEL("vt::mul", CPU, mul_cpu);
VT_REGISTER_KERNEL("vt::div", CPU, div_cpu);
VT_REGISTER_KERNEL("vt::pow", CPU, pow_cpu);
VT_REGISTER_KERNEL("vt::maximum", CPU, maximum_cpu);
VT_REGISTER_KERNEL("vt::minimum", CPU, minimum_cpu);
VT_REGISTER_KERNEL("vt::eq", CPU, eq_cpu);
VT_REGISTER_KERNEL("vt::ne", CPU, ne_cpu);
VT_REGISTER_KERNEL("vt::lt", CPU, lt_cpu);
VT_REGISTER_KERNEL("vt::le", CPU, le_cpu);
VT_REGISTER_KERNEL("vt::gt", CPU, gt_cpu);
VT_REGISTER_KERNEL("vt::ge", CPU, ge_cpu);
VT_REGISTER_KERNEL("vt::logical_and", CPU, logical_and_cpu);
VT_REGISTER_KERNEL("vt::logical_or", CPU, logical_or_cpu);
VT_REGISTER_KERNEL("vt::where", CPU, where_cpu);
VT_REGISTER_KERNEL("vt::masked_fill", CPU, masked_fill_cpu);
VT_REGISTER_KERNEL("vt::neg", CPU, neg_cpu);
VT_REGISTER_KERNEL("vt::abs", CPU, abs_cpu);
VT_REGISTER_KERNEL("vt::exp", CPU, exp_cpu);
VT_REGISTER_KERNEL("vt::log", CPU, log_cpu);
VT_REGISTER_KERNEL("vt::sqrt", CPU, sqrt_cpu);
VT_REGISTER_KERNEL("vt::rsqrt", CPU, rsqrt_cpu);
VT_REGISTER_KERNEL("vt::sin", CPU, sin_cpu);
VT_REGISTER_KERNEL("vt::cos", CPU, cos_cpu);
VT_REGISTER_KERNEL("vt::tanh", CPU, tanh_cpu);
VT_REGISTER_KERNEL("vt::sigmoid", CPU, sigmoid_cpu);
VT_REGISTER_KERNEL("vt::relu", CPU, relu_cpu);
VT_REGISTER_KERNEL("vt::logical_not", CPU, logical_not_cpu);
VT_REGISTER_KERNEL("vt::gelu", CPU, gelu_cpu);
VT_REGISTER_KERNEL("vt::clamp", CPU, clamp_cpu);
VT_REGISTER_KERNEL("vt::gelu_backward", CPU, gelu_backward_cpu);
VT_REGISTER_KERNEL("vt::threshold_backward", CPU, threshold_backward_cpu);
VT_REGISTER_KERNEL("vt::add_", CPU, add__cpu);
VT_REGISTER_KERNEL("vt::sub_", CPU, sub__cpu);
VT_REGISTER_KERNEL("vt::mul_", CPU, mul__cpu);
VT_REGISTER_KERNEL("vt::div_", CPU, div__cpu);
VT_REGISTER_KERNEL("vt::addcmul_", CPU, addcmul__cpu);
VT_REGISTER_KERNEL("vt::addcdiv_", CPU, addcdiv__cpu);
VT_REGISTER_KERNEL("vt::clamp_", CPU, clamp__cpu);
VT_REGISTER_KERNEL("vt::masked_fill_", CPU, masked_fill__cpu);

}  // namespace vt::cpu
