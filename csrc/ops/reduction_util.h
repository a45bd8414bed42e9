#pragma once
// Which dims a reduction reduces, and the shapes of its result, shared by the reduction kernels
// of every device and their autograd formulas.
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

// For min/max style reductions: a reduced dim of size 0 has no identity to return.
void check_nonempty_reduction(IntArrayRef sizes, const ReductionDims& rd, bool dim_given, const char* op);

// The reduction argument of the losses: "none" | "mean" | "sum"; ValueError naming the string otherwise.
enum class LossReduction { None, Mean, Sum };
LossReduction parse_loss_reduction(const std::string& reduction, const char* op);

}  // namespace vt
