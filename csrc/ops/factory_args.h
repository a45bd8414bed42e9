#pragma once
// Argument rules of the factories and fill_, shared by the CPU and CUDA kernels.
#include <cmath>
#include <optional>

#include "core/host_device.h"
#include "ops/ops.h"

namespace vt {

// fill_ refuses a float value that an integer tensor would truncate, as torch does.
inline void check_fill_value(const Tensor& self, const Scalar& value) {
  VT_CHECK_TYPE(!(value.is_floating() && !is_floating(self.dtype())) || value.to_double() == double(value.to_int()),
                "fill_: value ", value.to_double(), " cannot be converted to ", self.dtype(),
                " without overflow or truncation");
}

inline DType dtype_or(std::optional<DType> d, DType dflt) { return d ? *d : dflt; }

// The length of arange(start, end, step), with its argument checks: exact for integer arguments
// (Python's range; (end - start) may not fit in int64), ceil((end - start) / step) in double
// otherwise. RuntimeError when it is not finite or not below 2^63 (Note [Shape overflow]).
inline int64_t arange_length(const Scalar& start, const Scalar& end, const Scalar& step) {
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  VT_CHECK_VALUE(st != 0, "arange: step must be nonzero");
  VT_CHECK_VALUE((st > 0 && e >= s) || (st < 0 && e <= s), "arange: upper bound and larger bound inconsistent with step sign (start=",
                 s, ", end=", e, ", step=", st, ")");
  if (!start.is_floating() && !end.is_floating() && !step.is_floating()) {
    __int128 span = __int128(end.to_int()) - start.to_int(), by = step.to_int();
    if (by < 0) { span = -span; by = -by; }
    __int128 n = (span + by - 1) / by;
    VT_CHECK(n <= INT64_MAX, "arange: the range from ", start.to_int(), " to ", end.to_int(), " with step ",
             step.to_int(), " has more than 2^63 - 1 elements");
    return int64_t(n);
  }
  double n = std::ceil((e - s) / st);
  VT_CHECK(std::isfinite(n) && n < 9223372036854775808.0, "arange: unsupported range: ", s, " -> ", e, " with step ",
           st, " gives ", n, " elements (expected a finite count below 2^63)");
  return int64_t(n);
}

// The dtype, length and values of arange(start, end, step, dtype), checked as arange_length does.
struct ArangeArgs {
  DType dtype;
  int64_t n;
  bool any_float;        // element i is fma(i, step, start) in double (Note [arange values])
  double start, step;    // as doubles
  int64_t istart, istep;  // as integers, when !any_float
};
inline ArangeArgs arange_args(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<DType> dtype) {
  bool any_float = start.is_floating() || end.is_floating() || step.is_floating();
  DType dt = dtype_or(dtype, any_float ? default_float_dtype() : DType::Int64);
  int64_t n = arange_length(start, end, step);
  return {dt, n, any_float, start.to_double(), step.to_double(), any_float ? 0 : start.to_int(),
          any_float ? 0 : step.to_int()};
}

inline void check_randint_range(int64_t low, int64_t high) {
  VT_CHECK_VALUE(high > low, "randint: expected low < high, got low=", low, ", high=", high);
}

// Element i of an integer arange, start + i * step, in wrapping arithmetic: the exact value fits
// (it lies in the range) but i * step alone may not.
VT_HOST_DEVICE inline int64_t arange_int_value(int64_t start, int64_t step, int64_t i) {
  return int64_t(uint64_t(start) + uint64_t(i) * uint64_t(step));
}

}  // namespace vt
