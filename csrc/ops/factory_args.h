#pragma once
// Argument rules of the factories and fill_, shared by the CPU and CUDA kernels.
#include <optional>

#include "ops/ops.h"

namespace vt {

// fill_ refuses a float value that an integer tensor would truncate, as torch does.
inline void check_fill_value(const Tensor& self, const Scalar& value) {
  VT_CHECK_TYPE(!(value.is_floating() && !is_floating(self.dtype())) || value.to_double() == double(value.to_int()),
                "fill_: value ", value.to_double(), " cannot be converted to ", self.dtype(),
                " without overflow or truncation");
}

inline DType dtype_or(std::optional<DType> d, DType dflt) { return d ? *d : dflt; }

}  // namespace vt
