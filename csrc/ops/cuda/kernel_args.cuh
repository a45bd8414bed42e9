#pragma once
// Host-side argument preparation shared by the row-wise CUDA kernels (normalization, losses,
// dropout, embedding): device checks, contiguous operands of a given dtype, alignment tests.
#include <cstdint>

#include "ops/ops.h"

namespace vt::cuda_kernels {

inline void check_cuda(const char* op, const Tensor& t) {
  VT_CHECK(t.device().is_cuda(), op, ": the CUDA kernel got a tensor on ", t.device());
}

// t as a contiguous tensor of `dtype` (t itself when it already is one), outside autograd.
inline Tensor contiguous_as(const Tensor& t, DType dtype) {
  NoGradGuard no_grad;
  return ops::contiguous(t.dtype() == dtype ? t : ops::to_dtype(t, dtype));
}

// True for an undefined tensor too (nothing to load).
inline bool aligned16(const Tensor& t) {
  return !t.defined() || reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

}  // namespace vt::cuda_kernels
