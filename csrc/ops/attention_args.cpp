#include "ops/attention_args.h"

#include <sstream>

#include "core/shape.h"

namespace vt {

std::string fused_attention_unsupported(const Tensor& q, const Tensor& k, const Tensor& v) {
  std::ostringstream why;
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
    why << "expected 4-D query, key and value [B, H, T, D], got shapes " << shape_str(q.sizes()) << ", "
        << shape_str(k.sizes()) << ", " << shape_str(v.sizes());
  } else if (DimVector(q.sizes()) != DimVector(k.sizes()) || DimVector(q.sizes()) != DimVector(v.sizes())) {
    why << "expected query, key and value of one shape [B, H, T, D], got " << shape_str(q.sizes()) << ", "
        << shape_str(k.sizes()) << ", " << shape_str(v.sizes());
  } else if (!fused_attention_head_dim(q.size(3))) {
    why << "head dim " << q.size(3) << " is not one of 16, 32, 64, 128";
  } else if (q.dtype() != k.dtype() || q.dtype() != v.dtype() ||
             !(q.dtype() == DType::Float32 || q.dtype() == DType::BFloat16 || q.dtype() == DType::Float16)) {
    why << "expected query, key and value of one dtype among float32, bfloat16, float16, got " << q.dtype() << ", "
        << k.dtype() << ", " << v.dtype();
  } else if (q.stride(3) != 1 || k.stride(3) != 1 || v.stride(3) != 1) {
    why << "the last dim of query, key and value must be contiguous, got strides " << shape_str(q.strides()) << ", "
        << shape_str(k.strides()) << ", " << shape_str(v.strides());
  } else if (!q.device().is_cuda() || k.device() != q.device() || v.device() != q.device()) {
    why << "expected query, key and value on one CUDA device, got " << q.device() << ", " << k.device() << ", "
        << v.device();
  } else if (q.size(0) * q.size(1) >= 65536) {
    why << "B * H = " << q.size(0) * q.size(1) << " exceeds the launch grid's 65535";
  }
  return why.str();
}

}  // namespace vt
