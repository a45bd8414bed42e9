#pragma once
// Argument checks of embedding_backward, shared by the kernels of every device.
#include "ops/ops.h"

namespace vt {

// grad has shape indices.shape + [D]; returns D.
inline int64_t check_embedding_backward_args(const Tensor& grad, const Tensor& indices, int64_t num_weights) {
  const char* op = "embedding_backward";
  VT_CHECK(grad.device() == indices.device(), op, ": expected grad and indices on the same device, got ", grad.device(),
           " and ", indices.device());
  VT_CHECK_TYPE(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, op,
                ": expected the indices to be an int64 or int32 tensor, got ", indices.dtype());
  VT_CHECK_TYPE(is_floating(grad.dtype()), op, ": expected a floating point grad, got ", grad.dtype());
  VT_CHECK_VALUE(num_weights >= 0, op, ": expected num_weights >= 0, got ", num_weights);
  bool ok = grad.dim() == indices.dim() + 1;
  for (int64_t d = 0; ok && d < indices.dim(); ++d) ok = grad.sizes()[d] == indices.sizes()[d];
  VT_CHECK_VALUE(ok, op, ": expected a grad of shape indices.shape + [embedding_dim] for indices of shape ",
                 shape_str(indices.sizes()), ", got ", shape_str(grad.sizes()));
  return grad.sizes().back();
}

}  // namespace vt
