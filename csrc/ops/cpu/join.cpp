// CPU kernel of cat: concatenation along one dim with torch's dtype promotion (ops/cat_plan.h).
#include "ops/cat_plan.h"

namespace vt::cpu {
namespace {

Tensor cat_cpu(const TensorList& tensors, int64_t dim) {
  CatPlan plan = plan_cat(tensors, dim);
  // Each input is copied (and converted) into its window of the output.
  for (const CatPlan::Piece& p : plan.pieces) ops::copy_(p.window, *p.input, false);
  return plan.out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cat", CPU, cat_cpu);

}  // namespace vt::cpu
