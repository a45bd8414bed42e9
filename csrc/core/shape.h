#pragma once
// Shape and stride arithmetic shared by views, kernels and autograd.
#include <ostream>
#include <string>

#include "core/dim_vector.h"

namespace vt {

// Note [Shape overflow]
// Sizes, strides, offsets and byte counts are int64 (as in torch); a hostile shape such as
// empty(2**40, 2**40) would wrap to a small or zero numel and let kernels read out of bounds. So:
//  - numel_of multiplies the sizes left to right with overflow checks, as torch does: a product
//    that leaves int64 before a 0 is reached is an error even though the result would be 0;
//  - every TensorImpl is checked when built (core/tensor.cpp): sizes >= 0, numel fits, offset
//    >= 0, offset * itemsize fits, and a view with elements lies inside its storage:
//    (offset + sum((size - 1) * stride) + 1) * itemsize <= storage bytes, with no overflow;
//  - fresh storage takes numel * itemsize bytes, checked; a size that fits but cannot be
//    allocated is a RuntimeError ("out of memory"), never a crash.
// With that invariant every element offset a kernel computes for a tensor with elements is at
// most its storage extent, so index * stride sums in loops cannot wrap. Code that multiplies a
// subset of the sizes (reductions, flatten, the loops' dim merging) still checks: a tensor with
// no element may have sizes whose partial products overflow, e.g. [0, 2**62, 2**62].
// Arithmetic helpers: core/checked_math.h.

// The product of sizes; RuntimeError for a negative size or a product beyond int64.
int64_t numel_of(IntArrayRef sizes);
// Row-major strides (a size-0 dim counts as 1); RuntimeError when a stride leaves int64.
DimVector contiguous_strides(IntArrayRef sizes);
// Bytes of storage a view needs, (offset + sum((size - 1) * stride) + 1) * itemsize, or 0 for
// a view with no element. RuntimeError when that leaves int64, for a negative offset or one whose
// byte offset leaves int64, and for a negative stride on a dim of size > 1 (vibetensor has none,
// as torch). Sizes must be >= 0.
int64_t storage_nbytes_of(IntArrayRef sizes, IntArrayRef strides, int64_t offset, int64_t itemsize);
// numel_of and storage_nbytes_of in one pass, with their errors (TensorImpl checks every tensor
// an op makes with it).
struct ViewSpan {
  int64_t numel, nbytes;
};
ViewSpan view_span(IntArrayRef sizes, IntArrayRef strides, int64_t offset, int64_t itemsize);
// Wraps a possibly negative dim into [0, ndim); IndexError naming the valid range otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op = "");
// The broadcast of two shapes; ValueError naming both when they don't broadcast.
DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op = "");
std::string shape_str(IntArrayRef s);
bool is_contiguous_layout(IntArrayRef sizes, IntArrayRef strides);

}  // namespace vt
