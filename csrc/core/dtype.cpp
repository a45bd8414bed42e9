#include "core/dtype.h"

#include <atomic>

namespace vt {

namespace {
std::atomic<DType> g_default_float{DType::Float32};  // Note [Default dtype]
}  // namespace

DType default_float_dtype() { return g_default_float.load(std::memory_order_relaxed); }
void set_default_float_dtype(DType t) { g_default_float.store(t, std::memory_order_relaxed); }

// Promotion lattice: bool < int32 < int64 < float16/bfloat16 < float32 < float64;
// float16 with bfloat16 gives float32, as in torch.
DType promote_types(DType a, DType b) {
  if (a == b) return a;
  auto rank = [](DType t) {
    switch (t) {
      case DType::Bool: return 0;
      case DType::Int32: return 1;
      case DType::Int64: return 2;
      case DType::Float16: case DType::BFloat16: return 3;
      case DType::Float32: return 4;
      case DType::Float64: return 5;
    }
    return 0;
  };
  if ((a == DType::Float16 && b == DType::BFloat16) || (a == DType::BFloat16 && b == DType::Float16))
    return DType::Float32;
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace vt
