// CUDA kernels: unary math, clamp, gelu/threshold backward, addcmul_/addcdiv_ (mirrors
// ops/cpu/elementwise.cpp).
#include <cmath>

#include "ops/cuda/elementwise.cuh"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;

struct NegF { template <class M> __device__ M operator()(M x) const { return -x; } };
// -0 gives +0, as torch and fabs do (x < 0 alone keeps the sign of -0).
struct AbsF { template <class M> __device__ M operator()(M x) const { return x < 0 ? M(-x) : x == 0 ? M(0) : x; } };
struct ExpF { template <class M> __device__ M operator()(M x) const { return math::exp(x); } };
struct LogF { template <class M> __device__ M operator()(M x) const { return math::log(x); } };
struct SqrtF { template <class M> __device__ M operator()(M x) const { return math::sqrt(x); } };
struct RsqrtF { template <class M> __device__ M operator()(M x) const { return M(1) / math::sqrt(x); } };
struct SinF { template <class M> __device__ M operator()(M x) const { return math::sin(x); } };
struct CosF { template <class M> __device__ M operator()(M x) const { return math::cos(x); } };
struct TanhF { template <class M> __device__ M operator()(M x) const { return math::tanh(x); } };
struct SigmoidF { template <class M> __device__ M operator()(M x) const { return M(1) / (M(1) + math::exp(-x)); } };
struct ReluF { template <class M> __device__ M operator()(M x) const { return x > 0 ? x : M(0); } };

template <class M> __device__ M gelu_value(M x, bool tanh_approx) {
  if (tanh_approx) {
    M inner = M(kSqrt2OverPi) * (x + M(0.044715) * x * x * x);
    return M(0.5) * x * (M(1) + math::tanh(inner));
  }
  return M(0.5) * x * (M(1) + math::erf(x * M(kInvSqrt2)));
}

template <class M> __device__ M gelu_grad(M x, bool tanh_approx) {
  if (tanh_approx) {
    M x2 = x * x;
    M inner = M(kSqrt2OverPi) * (x + M(0.044715) * x2 * x);
    M t = math::tanh(inner);
    M dinner = M(kSqrt2OverPi) * (M(1) + M(3 * 0.044715) * x2);
    return M(0.5) * (M(1) + t) + M(0.5) * x * (M(1) - t * t) * dinner;
  }
  M cdf = M(0.5) * (M(1) + math::erf(x * M(kInvSqrt2)));
  M pdf = math::exp(M(-0.5) * x * x) * M(0.3989422804014327);
  return cdf + x * pdf;
}

struct GeluF {
  bool tanh_approx;
  template <class M> __device__ M operator()(M x) const { return gelu_value(x, tanh_approx); }
};

struct ClampF {
  double lo, hi;
  template <class M> __device__ M operator()(M x) const {
    if (x != x) return x;
    if constexpr (std::is_floating_point_v<M>) {
      M m = x < M(lo) ? M(lo) : x;  // std::min(std::max(x, lo), hi), as the CPU kernel
      return M(hi) < m ? M(hi) : m;
    } else {
      double d = double(x);
      double m = d < lo ? lo : d;
      return M(hi < m ? hi : m);
    }
  }
};

bool parse_gelu_approximate(const std::string& a) {
  VT_CHECK_VALUE(a == "none" || a == "tanh", "gelu: approximate must be 'none' or 'tanh', got '", a, "'");
  return a == "tanh";
}

Tensor neg_cuda(const Tensor& a) {
  VT_CHECK_TYPE(a.dtype() != DType::Bool, "neg: negation of a bool tensor is not supported; use logical_not instead");
  return unary_numeric("neg", a, NegF{});
}
Tensor abs_cuda(const Tensor& a) { return unary_numeric("abs", a, AbsF{}); }
Tensor exp_cuda(const Tensor& a) { return unary_float("exp", a, ExpF{}); }
Tensor log_cuda(const Tensor& a) { return unary_float("log", a, LogF{}); }
Tensor sqrt_cuda(const Tensor& a) { return unary_float("sqrt", a, SqrtF{}); }
Tensor rsqrt_cuda(const Tensor& a) { return unary_float("rsqrt", a, RsqrtF{}); }
Tensor sin_cuda(const Tensor& a) { return unary_float("sin", a, SinF{}); }
Tensor cos_cuda(const Tensor& a) { return unary_float("cos", a, CosF{}); }
Tensor tanh_cuda(const Tensor& a) { return unary_float("tanh", a, TanhF{}); }
Tensor sigmoid_cuda(const Tensor& a) { return unary_float("sigmoid", a, SigmoidF{}); }
Tensor relu_cuda(const Tensor& a) {
  VT_CHECK_TYPE(a.dtype() != DType::Bool, "relu: not supported for bool tensors");
  return unary_numeric("relu", a, ReluF{});
}
Tensor gelu_cuda(const Tensor& a, const std::string& approximate) {
  bool t = parse_gelu_approximate(approximate);
  VT_CHECK_TYPE(is_floating(a.dtype()), "gelu: expected a floating tensor, got ", a.dtype());
  if (suite::selected("gelu")) {
    if (!a.is_contiguous() || !a.device().is_cuda()) {
      suite::fallback("gelu", "a non-contiguous input");
    } else {
      Tensor out = empty_tensor(a.sizes(), a.dtype(), a.device());
      if (suite::gelu_forward(a, out, t)) return out;
    }
  }
  return unary_float("gelu", a, GeluF{t});
}
Tensor clamp_cuda(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  VT_CHECK_VALUE(lo || hi, "clamp: at least one of 'min' or 'max' must not be None");
  return unary_numeric("clamp", a, ClampF{lo.value_or(-INFINITY), hi.value_or(INFINITY)});
}
Tensor clamp__cuda(const Tensor& self, std::optional<double> lo, std::optional<double> hi) {
  Tensor r = clamp_cuda(self, lo, hi);
  return ops::copy_(self, r, false);
}

template <class D> struct GeluBackward {
  bool tanh_approx;
  __device__ D operator()(D g, D x) const {
    auto m = to_opmath(x);
    return from_opmath<D>(to_opmath(g) * gelu_grad(m, tanh_approx));
  }
};
Tensor gelu_backward_cuda(const Tensor& grad, const Tensor& self, const std::string& approximate) {
  bool t = parse_gelu_approximate(approximate);
  check_same_device("gelu_backward", {&grad, &self});
  Tensor out = empty_tensor(self.sizes(), self.dtype(), op_device({&grad, &self}));
  if (suite::selected("gelu")) {
    if (!grad.is_contiguous() || !self.is_contiguous() || grad.dtype() != self.dtype() || grad.numel() != self.numel() ||
        !self.device().is_cuda())
      suite::fallback("gelu", "gelu_backward operands that are not contiguous tensors of one shape and dtype");
    else if (suite::gelu_backward(self, grad, out, t))
      return out;
  }
  VT_DISPATCH_FLOATING(self.dtype(), "gelu_backward", [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand og = make_operand<T>(grad, out.device(), keep);
    Operand os = make_operand<T>(self, out.device(), keep);
    gpu_kernel<D, D, D>(out, {og, os}, GeluBackward<D>{t});
  });
  return out;
}

template <class D> struct ThresholdBackward {
  double threshold;
  __device__ D operator()(D g, D x) const {
    using M = dev_opmath_t<D>;
    return from_opmath<D>(to_opmath(x) > M(threshold) ? to_opmath(g) : M(0));
  }
};
Tensor threshold_backward_cuda(const Tensor& grad, const Tensor& self, double threshold) {
  check_same_device("threshold_backward", {&grad, &self});
  Tensor out = empty_tensor(self.sizes(), self.dtype(), op_device({&grad, &self}));
  VT_DISPATCH_NUMERIC(self.dtype(), "threshold_backward", [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand og = make_operand<T>(grad, out.device(), keep);
    Operand os = make_operand<T>(self, out.device(), keep);
    gpu_kernel<D, D, D>(out, {og, os}, ThresholdBackward<D>{threshold});
  });
  return out;
}

struct AddcmulF {
  double v;
  template <class M> __device__ M operator()(M s, M a, M b) const { return s + M(v) * a * b; }
};
struct AddcdivF {
  double v;
  template <class M> __device__ M operator()(M s, M a, M b) const { return s + M(v) * a / b; }
};

template <class F>
Tensor ternary_inplace(const char* name, const Tensor& self, const Tensor& t1, const Tensor& t2, F f) {
  check_same_device(name, {&self, &t1, &t2});
  VT_CHECK(self.device().is_cuda(), name, ": expected the destination on a CUDA device, got ", self.device());
  DimVector shape = broadcast_shapes(broadcast_shapes(self.sizes(), t1.sizes(), name), t2.sizes(), name);
  check_inplace(name, self, shape, result_type(self, t1, t2));
  VT_DISPATCH_FLOATING(self.dtype(), name, [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand o1 = make_operand<T>(t1, self.device(), keep);
    Operand o2 = make_operand<T>(t2, self.device(), keep);
    gpu_kernel<D, D, D, D>(self, {Operand::of(self), o1, o2}, OpMathTernary<D, F>{f});
  });
  self->bump_version();
  return self;
}
Tensor addcmul__cuda(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return ternary_inplace("addcmul_", self, t1, t2, AddcmulF{value.to_double()});
}
Tensor addcdiv__cuda(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return ternary_inplace("addcdiv_", self, t1, t2, AddcdivF{value.to_double()});
}

}  // namespace

VT_REGISTER_KERNEL("vt::neg", CUDA, neg_cuda);
VT_REGISTER_KERNEL("vt::abs", CUDA, abs_cuda);
VT_REGISTER_KERNEL("vt::exp", CUDA, exp_cuda);
VT_REGISTER_KERNEL("vt::log", CUDA, log_cuda);
VT_REGISTER_KERNEL("vt::sqrt", CUDA, sqrt_cuda);
VT_REGISTER_KERNEL("vt::rsqrt", CUDA, rsqrt_cuda);
VT_REGISTER_KERNEL("vt::sin", CUDA, sin_cuda);
VT_REGISTER_KERNEL("vt::cos", CUDA, cos_cuda);
VT_REGISTER_KERNEL("vt::tanh", CUDA, tanh_cuda);
VT_REGISTER_KERNEL("vt::sigmoid", CUDA, sigmoid_cuda);
VT_REGISTER_KERNEL("vt::relu", CUDA, relu_cuda);
VT_REGISTER_KERNEL("vt::gelu", CUDA, gelu_cuda);
VT_REGISTER_KERNEL("vt::clamp", CUDA, clamp_cuda);
VT_REGISTER_KERNEL("vt::clamp_", CUDA, clamp__cuda);
VT_REGISTER_KERNEL("vt::gelu_backward", CUDA, gelu_backward_cuda);
VT_REGISTER_KERNEL("vt::threshold_backward", CUDA, threshold_backward_cuda);
VT_REGISTER_KERNEL("vt::addcmul_", CUDA, addcmul__cuda);
VT_REGISTER_KERNEL("vt::addcdiv_", CUDA, addcdiv__cuda);

}  // namespace vt::cuda_kernels
