#pragma once
// Which dims a reduction reduces, and the shapes of its result, shared by the reduction kernels
// of every device and their autograd formulas.
#include <limits>
#include <string>
#include <vector>

#include "ops/ops.h"

namespace vt {

struct ReductionDims {
  std::vector<bool> reduced;  // one flag per input dim
  DimVector kept_shape;       // the result shape with keepdim=True (reduced dims become 1)
  DimVector out_shape;        // the result shape for the keepdim argument given
  int64_t count = 1;          // elements reduced into each result element
};

// dim=None or an empty list reduces every dim (as torch does). Negative dims wrap; a dim out
// of range is an IndexError and a repeated dim a RuntimeError, both naming the dim.
ReductionDims reduction_dims(IntArrayRef sizes, const std::optional<IntList>& dim, bool keepdim, const char* op);

// The reduced dims as a list (for ops::sum(..., dims, keepdim=true) in backward formulas).
IntList reduced_dim_list(const ReductionDims& rd);

// Note [Reduction layouts]
// Every reduction kernel (CPU and CUDA) runs over a contiguous buffer viewed as [O, R, I]: O
// outer rows, R reduced elements, I inner kept elements; the result is a contiguous [O, I] in
// the order of the kept dims. A contiguous input whose reduced dims form one block (trailing:
// I = 1, leading: O = 1, or in the middle) is read in place. Otherwise the input is permuted to
// kept dims first and reduced dims last (or the reverse); when that permutation is contiguous
// (a transposed tensor) it is read in place, else it is copied once (on the input's device).
struct ReduceLayout {
  Tensor src;  // contiguous
  int64_t O = 1, R = 1, I = 1;
};

// Plans the [O, R, I] view of x reducing the flagged dims (copies only when no view exists).
ReduceLayout plan_reduction(const Tensor& x, const std::vector<bool>& reduced);

// The result dtype of sum (integers and bool give int64) and of mean (floating only; TypeError
// otherwise), given the optional dtype argument.
DType sum_result_dtype(DType self, std::optional<DType> dtype);
DType mean_result_dtype(DType self, std::optional<DType> dtype);

// The [O, N, I] view of a contiguous tensor around dim d (softmax-style ops over one dim).
struct DimLayout {
  int64_t O = 1, N = 1, I = 1;
};
DimLayout layout_around_dim(IntArrayRef sizes, int64_t d);

// Identities of max / min: -inf / inf where the type has them, else its extreme values.
template <class A> constexpr A lowest_value() {
  if constexpr (std::numeric_limits<A>::has_infinity) return -std::numeric_limits<A>::infinity();
  else return std::numeric_limits<A>::lowest();
}
template <class A> constexpr A highest_value() {
  if constexpr (std::numeric_limits<A>::has_infinity) return std::numeric_limits<A>::infinity();
  else return std::numeric_limits<A>::max();
}

// For min/max style reductions: a reduced dim of size 0 has no identity to return.
void check_nonempty_reduction(IntArrayRef sizes, const ReductionDims& rd, bool dim_given, const char* op);

// The reduction argument of the losses: "none" | "mean" | "sum"; ValueError naming the string otherwise.
enum class LossReduction { None, Mean, Sum };
LossReduction parse_loss_reduction(const std::string& reduction, const char* op);

}  // namespace vt
