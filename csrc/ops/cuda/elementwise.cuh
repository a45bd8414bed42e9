#pragma once
// Shared building blocks of the CUDA elementwise kernels (binary.cu, compare.cu, unary.cu):
// the same steps as ops/cpu/elementwise.cpp (device checks, result dtype, broadcast output,
// operand casts), with functors in place of the CPU lambdas. A functor's templated
// operator() computes on the opmath type M; the adapters below convert from and to storage.
#include "ops/cuda/loops.cuh"
#include "ops/cuda/math.cuh"
#include "ops/cuda/scalars.cuh"

namespace vt::cuda_kernels {

// D x D -> D through opmath.
template <class D, class F> struct OpMathBinary {
  F f;
  __device__ __forceinline__ D operator()(D x, D y) const {
    return from_opmath<D>(f(to_opmath(x), to_opmath(y)));
  }
};
// D x D -> bool through opmath (comparisons, logical ops).
template <class D, class F> struct OpMathPredicate {
  F f;
  __device__ __forceinline__ bool operator()(D x, D y) const { return bool(f(to_opmath(x), to_opmath(y))); }
};
template <class D, class F> struct OpMathUnary {
  F f;
  __device__ __forceinline__ D operator()(D x) const { return from_opmath<D>(f(to_opmath(x))); }
};
template <class D, class F> struct OpMathTernary {
  F f;
  __device__ __forceinline__ D operator()(D x, D y, D z) const {
    return from_opmath<D>(f(to_opmath(x), to_opmath(y), to_opmath(z)));
  }
};

// out = f(a, b) with both inputs taken as out's dtype (CPU: binary_into).
template <class F> void binary_into(const char* name, const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  VT_DISPATCH_ALL(out.dtype(), name, [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand oa = make_operand<T>(a, out.device(), keep);
    Operand ob = make_operand<T>(b, out.device(), keep);
    gpu_kernel<D, D, D>(out, {oa, ob}, OpMathBinary<D, F>{f});
  });
}

enum class Promote { Same, IntToFloat };

// The checked, empty result of a binary op (device, result dtype, broadcast shape).
inline Tensor binary_out(const char* name, const Tensor& a, const Tensor& b, Promote promote = Promote::Same) {
  check_same_device(name, {&a, &b});
  DType rt = result_type(a, b);
  if (promote == Promote::IntToFloat && !is_floating(rt)) rt = default_float_dtype();
  return empty_tensor(broadcast_shapes(a.sizes(), b.sizes(), name), rt, op_device({&a, &b}));
}

// The checks of an in-place binary op: one device, a CUDA destination that keeps its shape and dtype.
inline void check_binary_inplace(const char* name, const Tensor& self, const Tensor& other) {
  check_same_device(name, {&self, &other});
  VT_CHECK(self.device().is_cuda(), name, ": expected the destination on a CUDA device, got ", self.device());
  check_inplace(name, self, broadcast_shapes(self.sizes(), other.sizes(), name), result_type(self, other));
}

template <class F>
Tensor binary(const char* name, const Tensor& a, const Tensor& b, F f, Promote promote = Promote::Same) {
  Tensor out = binary_out(name, a, b, promote);
  binary_into(name, out, a, b, f);
  return out;
}

template <class F> const Tensor& binary_inplace(const char* name, const Tensor& self, const Tensor& other, F f) {
  check_binary_inplace(name, self, other);
  binary_into(name, self, self, other, f);
  self->bump_version();
  return self;
}

template <class F> Tensor compare(const char* name, const Tensor& a, const Tensor& b, F f) {
  check_same_device(name, {&a, &b});
  DType ct = result_type(a, b);
  Tensor out = empty_tensor(broadcast_shapes(a.sizes(), b.sizes(), name), DType::Bool, op_device({&a, &b}));
  VT_DISPATCH_ALL(ct, name, [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    Operand oa = make_operand<T>(a, out.device(), keep);
    Operand ob = make_operand<T>(b, out.device(), keep);
    gpu_kernel<bool, D, D>(out, {oa, ob}, OpMathPredicate<D, F>{f});
  });
  return out;
}

// Unary ops on floats; integer inputs give float32 as in torch.
template <class F> Tensor unary_float(const char* name, const Tensor& a, F f) {
  DType rt = is_floating(a.dtype()) ? a.dtype() : default_float_dtype();
  Tensor out = empty_tensor(a.sizes(), rt, a.device());
  VT_DISPATCH_FLOATING(rt, name, [&]<class T>() {
    using D = dev_t<T>;
    KeepAlive keep;
    gpu_kernel<D, D>(out, {make_operand<T>(a, out.device(), keep)}, OpMathUnary<D, F>{f});
  });
  return out;
}

template <class F> Tensor unary_numeric(const char* name, const Tensor& a, F f) {
  Tensor out = empty_tensor(a.sizes(), a.dtype(), a.device());
  VT_DISPATCH_NUMERIC(a.dtype(), name, [&]<class T>() {
    using D = dev_t<T>;
    gpu_kernel<D, D>(out, {Operand::of(a)}, OpMathUnary<D, F>{f});
  });
  return out;
}

}  // namespace vt::cuda_kernels
