#pragma once
// The argument checks and iteration geometry of gather, index_select, scatter_add and index_add,
// shared by the kernels of every device (Note [Indexing kernels] in ops/cpu/indexing.cpp): a
// kernel receives an IndexLoop and only moves the elements and validates the index values.
#include <optional>

#include "ops/ops.h"

namespace vt {

// One indexing op as an elementwise loop over one iteration shape, with three operands of that
// shape: `indexed` is the tensor read (gather-like ops) or accumulated into (scatter-like ops),
// restrided with stride 0 along `dim`; `plain` is the other data operand (the output of a read,
// the source of a write); `index_view` is the index viewed in the iteration shape. Element p
// touches indexed[p + index_view[p] * dim_stride].
struct IndexLoop {
  Tensor result;            // what the op returns
  Tensor index;             // the index values (0-d given as [1]); each must lie in [0, dim_size)
  int64_t dim = 0;
  int64_t dim_size = 0;
  int64_t dim_stride = 0;   // in elements of `indexed`
  Tensor indexed, plain, index_view;  // undefined when the loop has no element
  bool has_work() const { return plain.defined(); }
};

void check_index_dtype(const char* op, const Tensor& index);
// The IndexError of an index value outside [0, size), with the CPU kernels' message.
[[noreturn]] void throw_index_out_of_bounds(const char* op, int64_t value, int64_t dim, int64_t size);

// The first value of a CPU index outside [0, size), in row-major order (negative values are
// errors, as in torch).
std::optional<int64_t> first_bad_index(const Tensor& index, int64_t size);
// Throws throw_index_out_of_bounds for the first bad value of a CPU index.
void check_index_values(const char* op, const Tensor& index, int64_t dim, int64_t size);

// out[p] = self[... index[p] along dim ...]; the loop's result is a fresh tensor of index's shape.
IndexLoop plan_gather(const Tensor& self, int64_t dim, const Tensor& index);
// out = self with the positions along dim picked by a 0-D or 1-D index.
IndexLoop plan_index_select(const Tensor& self, int64_t dim, const Tensor& index);
// A clone of self receives src summed at the positions index names along dim.
IndexLoop plan_scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// A clone of self receives the slices of source summed at the positions index names along dim.
IndexLoop plan_index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source);

}  // namespace vt
