// CUDA kernels: binary arithmetic and its in-place forms (mirrors ops/cpu/elementwise.cpp).
#include "ops/cuda/elementwise.cuh"
#include "ops/sub_check.h"

namespace vt::cuda_kernels {
namespace {

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

Tensor add_cuda(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  if (alpha.to_double() == 1.0) return binary("add", a, b, AddOneF{});
  return binary("add", a, b, AddF{alpha.to_double()});
}
Tensor sub_cuda(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_sub_operands("sub", a, b);
  return binary("sub", a, b, SubF{alpha.to_double()});
}
Tensor mul_cuda(const Tensor& a, const Tensor& b) { return binary("mul", a, b, MulF{}); }
Tensor div_cuda(const Tensor& a, const Tensor& b) { return binary("div", a, b, DivF{}, Promote::IntToFloat); }
Tensor pow_cuda(const Tensor& a, const Tensor& b) { return binary("pow", a, b, PowF{}); }
Tensor maximum_cuda(const Tensor& a, const Tensor& b) { return binary("maximum", a, b, MaximumF{}); }
Tensor minimum_cuda(const Tensor& a, const Tensor& b) { return binary("minimum", a, b, MinimumF{}); }

Tensor add__cuda(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  return binary_inplace("add_", self, other, AddF{alpha.to_double()});
}
Tensor sub__cuda(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  check_sub_operands("sub_", self, other);
  return binary_inplace("sub_", self, other, SubF{alpha.to_double()});
}
Tensor mul__cuda(const Tensor& self, const Tensor& other) { return binary_inplace("mul_", self, other, MulF{}); }
Tensor div__cuda(const Tensor& self, const Tensor& other) {
  VT_CHECK_TYPE(is_floating(self.dtype()), "div_: result type Float can't be cast to the desired output type ", self.dtype());
  return binary_inplace("div_", self, other, DivF{});
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
