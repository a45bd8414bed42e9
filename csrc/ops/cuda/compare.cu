// CUDA kernels: comparisons, logical ops, where and masked_fill (mirrors ops/cpu/elementwise.cpp).
#include "ops/cuda/elementwise.cuh"

namespace vt::cuda_kernels {
namespace {

struct EqF { template <class M> __device__ bool operator()(M x, M y) const { return x == y; } };
struct NeF { template <class M> __device__ bool operator()(M x, M y) const { return x != y; } };
struct LtF { template <class M> __device__ bool operator()(M x, M y) const { return x < y; } };
struct LeF { template <class M> __device__ bool operator()(M x, M y) const { return x <= y; } };
struct GtF { template <class M> __device__ bool operator()(M x, M y) const { return x > y; } };
struct GeF { template <class M> __device__ bool operator()(M x, M y) const { return x >= y; } };
struct AndF { template <class M> __device__ bool operator()(M x, M y) const { return bool(x) && bool(y); } };
struct OrF { template <class M> __device__ bool operator()(M x, M y) const { return bool(x) || bool(y); } };

Tensor eq_cuda(const Tensor& a, const Tensor& b) { return compare("eq", a, b, EqF{}); }
Tensor ne_cuda(const Tensor& a, const Tensor& b) { return compare("ne", a, b, NeF{}); }
Tensor lt_cuda(const Tensor& a, const Tensor& b) { return compare("lt", a, b, LtF{}); }
Tensor le_cuda(const Tensor& a, const Tensor& b) { return compare("le", a, b, LeF{}); }
Tensor gt_cuda(const Tensor& a, const Tensor& b) { return compare("gt", a, b, GtF{}); }
Tensor ge_cuda(const Tensor& a, const Tensor& b) { return compare("ge", a, b, GeF{}); }
Tensor logical_and_cuda(const Tensor& a, const Tensor& b) { return compare("logical_and", a, b, AndF{}); }
Tensor logical_or_cuda(const Tensor& a, const Tensor& b) { return compare("logical_or", a, b, OrF{}); }

template <class D> struct LogicalNot {
  __device__ bool operator()(D x) const { return !bool(to_opmath(x)); }
};
Tensor logical_not_cuda(const Tensor& a) {
  Tensor out = empty_tensor(a.sizes(), DType::Bool, a.device());
  VT_DISPATCH_ALL(a.dtype(), "logical_not", [&]<class T>() {
    using D = dev_t<T>;
    gpu_kernel<bool, D>(out, {Operand::of(a)}, LogicalNot<D>{});
  });
  return out;
}

template <class D> struct Where {
  __device__ D operator()(bool c, D x, D y) const { return c ? x : y; }
};
Tensor where_cuda(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", {&cond, &a, &b});
  VT_CHECK_TYPE(cond.dtype() == DType::Bool, "where: expected condition to be a bool tensor, got ", cond.dtype());
  DType rt = result_type(a, b);
  DimVector shape = broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor out = empty_tensor(shape, rt, op_device({&cond, &a, &b}));
  VT_DISPATCH_ALL(rt, "where", [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand oc = make_operand<bool>(cond, out.device(), keep);
    Operand oa = make_operand<T>(a, out.device(), keep);
    Operand ob = make_operand<T>(b, out.device(), keep);
    gpu_kernel<D, bool, D, D>(out, {oc, oa, ob}, Where<D>{});
  });
  return out;
}

template <class D> struct MaskedFill {
  D value;
  __device__ D operator()(D x, bool m) const { return m ? value : x; }
};
Tensor masked_fill_cuda(const Tensor& self, const Tensor& mask, const Scalar& value) {
  VT_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_fill: expected mask to be a bool tensor, got ", mask.dtype());
  check_same_device("masked_fill", {&self, &mask});
  DimVector shape = broadcast_shapes(self.sizes(), mask.sizes(), "masked_fill");
  VT_CHECK_VALUE(shape == DimVector(self.sizes()), "masked_fill: mask of shape ", shape_str(mask.sizes()),
                 " must broadcast to the tensor's shape ", shape_str(self.sizes()));
  Tensor out = empty_tensor(self.sizes(), self.dtype(), op_device({&self, &mask}));
  double v = value.to_double();
  VT_DISPATCH_ALL(self.dtype(), "masked_fill", [&]<class T>() {
    using D = dev_t<T>;
    T tv = T(opmath_t<T>(v));
    KeepAlive keep;
    Operand os = make_operand<T>(self, out.device(), keep);
    Operand om = make_operand<bool>(mask, out.device(), keep);
    gpu_kernel<D, D, bool>(out, {os, om}, MaskedFill<D>{from_bits<D>(bits_of_host(tv))});
  });
  return out;
}
Tensor masked_fill__cuda(const Tensor& self, const Tensor& mask, const Scalar& value) {
  Tensor r = masked_fill_cuda(self, mask, value);
  return ops::copy_(self, r, false);
}

}  // namespace

VT_REGISTER_KERNEL("vt::eq", CUDA, eq_cuda);
VT_REGISTER_KERNEL("vt::ne", CUDA, ne_cuda);
VT_REGISTER_KERNEL("vt::lt", CUDA, lt_cuda);
VT_REGISTER_KERNEL("vt::le", CUDA, le_cuda);
VT_REGISTER_KERNEL("vt::gt", CUDA, gt_cuda);
VT_REGISTER_KERNEL("vt::ge", CUDA, ge_cuda);
VT_REGISTER_KERNEL("vt::logical_and", CUDA, logical_and_cuda);
VT_REGISTER_KERNEL("vt::logical_or", CUDA, logical_or_cuda);
VT_REGISTER_KERNEL("vt::logical_not", CUDA, logical_not_cuda);
VT_REGISTER_KERNEL("vt::where", CUDA, where_cuda);
VT_REGISTER_KERNEL("vt::masked_fill", CUDA, masked_fill_cuda);
VT_REGISTER_KERNEL("vt::masked_fill_", CUDA, masked_fill__cuda);

}  // namespace vt::cuda_kernels
