#pragma once
// Shape and stride arithmetic shared by views, kernels and autograd.
#include <ostream>
#include <string>

#include "core/dim_vector.h"

namespace vt {

int64_t numel_of(IntArrayRef sizes);
DimVector contiguous_strides(IntArrayRef sizes);
// Wraps a possibly negative dim into [0, ndim); IndexError naming the valid range otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op = "");
// The broadcast of two shapes; ValueError naming both when they don't broadcast.
DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op = "");
std::string shape_str(IntArrayRef s);
bool is_contiguous_layout(IntArrayRef sizes, IntArrayRef strides);

}  // namespace vt
