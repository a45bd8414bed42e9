// CUDA kernels: binary arithmetic and its in-place forms (mirrors ops/cpu/elementwise.cpp).
#include "ops/cuda/elementwise.cuh"
#include "ops/sub_check.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// Operand t of an arithmetic op run by the suite (Note [Suite scope]): a device tensor, or a CPU
// scalar's value converted to the result type as make_operand converts it; under
// scalars.cuda=device_copy a wrapped number is copied to the device first (Note [Scalars on CUDA]).
struct SuiteOperand {
  Tensor tensor;
  std::optional<double> value;
};
SuiteOperand suite_operand(const Tensor& t, DType rt, Device dev, KeepAlive& keep) {
  if (!is_cpu_scalar(t)) return {t, std::nullopt};
  SuiteOperand o;
  VT_DISPATCH_ALL(rt, "suite operand", [&]<class T>() {
    if (t->is_wrapped_number && policy::scalars_cuda.get() == policy::ScalarsCuda::device_copy) {
      make_operand<T>(t, dev, keep);
      o.tensor = keep.back();
    } else {
      o.value = double(opmath_t<T>(host_scalar_as<T>(t)));
    }
  });
  return o;
}

// out = a op b through the suite's binary_fwd; false when the suite does not take it. A wrapped
// number it already copied to the device (scalars.cuda=device_copy) is left in a / b, so a native
// run after a refusal does not copy and sync again.
bool suite_arith(suite::BinaryOp op, const Tensor& out, Tensor& a, Tensor& b, double alpha) {
  if (!suite::binary_accepts(out, a, b, is_cpu_scalar(a), is_cpu_scalar(b))) return false;
  KeepAlive keep;
  SuiteOperand x = suite_operand(a, out.dtype(), out.device(), keep), y = suite_operand(b, out.dtype(), out.device(), keep);
  if (x.tensor.defined()) a = x.tensor;
  if (y.tensor.defined()) b = y.tensor;
  return suite::binary(op, out, x.tensor, y.tensor, alpha, x.value, y.value);
}

template <class F>
Tensor arith(const char* name, suite::BinaryOp op, const Tensor& a, const Tensor& b, double alpha, F f,
             Promote promote = Promote::Same) {
  if (!suite::scope_all()) [[likely]] return binary(name, a, b, f, promote);
  Tensor out = binary_out(name, a, b, promote);
  Tensor x = a, y = b;
  if (!suite_arith(op, out, x, y, alpha)) binary_into(name, out, x, y, f);
  return out;
}

template <class F>
const Tensor& arith_inplace(const char* name, suite::BinaryOp op, const Tensor& self, const Tensor& other, double alpha,
                            F f) {
  if (!suite::scope_all()) [[likely]] return binary_inplace(name, self, other, f);
  check_binary_inplace(name, self, other);
  Tensor x = self, y = other;
  if (!suite_arith(op, self, x, y, alpha)) binary_into(name, self, x, y, f);
  self->bump_version();
  return self;
}

struct AddF {
  double alpha;
  template <class M> __device__ M operator()(M x, M y) const { return x + M(alpha) * y; }
};
struct AddOneF {
  template <class M> __device__ M operator()(M x, M y) const { return x + y; }
};
struct SubF {
  double alpha;
  template <class M> __device__ M operator()(M x, M y) const { return x - M(alpha) * y; }
};
struct MulF {
  template <class M> __device__ M operator()(M x, M y) const { return x * y; }
};
struct DivF {
  template <class M> __device__ M operator()(M x, M y) const { return x / y; }
};
struct PowF {
  template <class M> __device__ M operator()(M base, M exp) const {
    if constexpr (std::is_floating_point_v<M>) {
      return math::pow(base, exp);
    } else if constexpr (std::is_same_v<M, bool>) {
      return base || !exp;
    } else {
      if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
      M r = 1;
      while (exp) {
        if (exp & 1) r *= base;
        base *= base;
        exp >>= 1;
      }
      return r;
    }
  }
};
struct MaximumF {
  template <class M> __device__ M operator()(M x, M y) const { return (x != x || x > y) ? x : y; }
};
struct MinimumF {
  template <class M> __device__ M operator()(M x, M y) const { return (x != x || x < y) ? x : y; }
};

using suite::BinaryOp;

Tensor add_cuda(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  double al = alpha.to_double();
  if (al == 1.0) return arith("add", BinaryOp::add, a, b, al, AddOneF{});
  return arith("add", BinaryOp::add, a, b, al, AddF{al});
}
Tensor sub_cuda(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_sub_operands("sub", a, b);
  return arith("sub", BinaryOp::sub, a, b, alpha.to_double(), SubF{alpha.to_double()});
}
Tensor mul_cuda(const Tensor& a, const Tensor& b) { return arith("mul", BinaryOp::mul, a, b, 1.0, MulF{}); }
Tensor div_cuda(const Tensor& a, const Tensor& b) {
  return arith("div", BinaryOp::div, a, b, 1.0, DivF{}, Promote::IntToFloat);
}
Tensor pow_cuda(const Tensor& a, const Tensor& b) { return binary("pow", a, b, PowF{}); }
Tensor maximum_cuda(const Tensor& a, const Tensor& b) { return binary("maximum", a, b, MaximumF{}); }
Tensor minimum_cuda(const Tensor& a, const Tensor& b) { return binary("minimum", a, b, MinimumF{}); }

Tensor add__cuda(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  return arith_inplace("add_", BinaryOp::add, self, other, alpha.to_double(), AddF{alpha.to_double()});
}
Tensor sub__cuda(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  check_sub_operands("sub_", self, other);
  return arith_inplace("sub_", BinaryOp::sub, self, other, alpha.to_double(), SubF{alpha.to_double()});
}
Tensor mul__cuda(const Tensor& self, const Tensor& other) {
  return arith_inplace("mul_", BinaryOp::mul, self, other, 1.0, MulF{});
}
Tensor div__cuda(const Tensor& self, const Tensor& other) {
  VT_CHECK_TYPE(is_floating(self.dtype()), "div_: result type Float can't be cast to the desired output type ", self.dtype());
  return arith_inplace("div_", BinaryOp::div, self, other, 1.0, DivF{});
}

}  // namespace

VT_REGISTER_KERNEL("vt::add", CUDA, add_cuda);
VT_REGISTER_KERNEL("vt::sub", CUDA, sub_cuda);
VT_REGISTER_KERNEL("vt::mul", CUDA, mul_cuda);
VT_REGISTER_KERNEL("vt::div", CUDA, div_cuda);
VT_REGISTER_KERNEL("vt::pow", CUDA, pow_cuda);
VT_REGISTER_KERNEL("vt::maximum", CUDA, maximum_cuda);
VT_REGISTER_KERNEL("vt::minimum", CUDA, minimum_cuda);
VT_REGISTER_KERNEL("vt::add_", CUDA, add__cuda);
VT_REGISTER_KERNEL("vt::sub_", CUDA, sub__cuda);
VT_REGISTER_KERNEL("vt::mul_", CUDA, mul__cuda);
VT_REGISTER_KERNEL("vt::div_", CUDA, div__cuda);

}  // namespace vt::cuda_kernels
