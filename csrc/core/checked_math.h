#pragma once
// Overflow-checked int64 arithmetic for sizes, strides, offsets and byte counts. See
// Note [Shape overflow] in core/shape.h.
#include <cstdint>

#include "core/error.h"

namespace vt {

// True when the exact result leaves int64 (*out then holds the wrapped value).
[[nodiscard]] inline bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
[[nodiscard]] inline bool add_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

// a * b and a + b; a RuntimeError naming `what` when the result leaves int64.
inline int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  VT_CHECK(!mul_overflows(a, b, &r), what, ": integer overflow: ", a, " * ", b,
           " does not fit in int64 (sizes, strides, offsets and byte counts must stay below 2^63)");
  return r;
}
inline int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  VT_CHECK(!add_overflows(a, b, &r), what, ": integer overflow: ", a, " + ", b,
           " does not fit in int64 (sizes, strides, offsets and byte counts must stay below 2^63)");
  return r;
}

}  // namespace vt
