// Argument checks and input windows of cat, for every device (see cat_plan.h).
#include "ops/cat_plan.h"

#include "core/checked_math.h"
#include "ops/elementwise_util.h"

namespace vt {
namespace {

// Legacy torch behaviour: a 1-D tensor of size 0 may appear in a cat of any shape and is skipped.
bool skipped_in_cat(const Tensor& t) { return t.dim() == 1 && t.sizes()[0] == 0; }

}  // namespace

CatPlan plan_cat(const TensorList& tensors, int64_t dim) {
  VT_CHECK_VALUE(!tensors.empty(), "cat: expected a non-empty list of tensors");
  DType dt = tensors[0].dtype();
  const Tensor* ref = nullptr;
  size_t ref_i = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    VT_CHECK_VALUE(t.dim() > 0, "cat: zero-dimensional tensor (at position ", i, ") cannot be concatenated");
    VT_CHECK(t.device() == tensors[0].device(), "cat: expected all tensors on one device, got ", tensors[0].device(),
             " (tensor 0) and ", t.device(), " (tensor ", i, ")");
    dt = promote_types(dt, t.dtype());
    if (!ref && !skipped_in_cat(t)) { ref = &t; ref_i = i; }
  }
  CatPlan plan;
  if (!ref) {
    plan.out = empty_tensor({0}, dt, tensors[0].device());
    return plan;
  }
  int64_t nd = ref->dim();
  int64_t d = wrap_dim(dim, nd, "cat");
  DimVector shape(ref->sizes());
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (skipped_in_cat(t)) continue;
    bool match = t.dim() == nd;
    for (int64_t j = 0; match && j < nd; ++j) match = j == d || t.sizes()[j] == ref->sizes()[j];
    VT_CHECK_VALUE(match, "cat: expected tensors to have matching sizes except in dimension ", d, ", but tensor ", ref_i,
                   " has shape ", shape_str(ref->sizes()), " and tensor ", i, " has shape ", shape_str(t.sizes()));
    shape[d] = checked_add(shape[d], t.sizes()[d], "cat: the total size along the concatenated dimension");
  }
  plan.out = empty_tensor(shape, dt, ref->device());
  plan.dim = d;
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    if (skipped_in_cat(t) || t.numel() == 0) {  // nothing to copy; its window may not be representable
      if (!skipped_in_cat(t)) offset += t.sizes()[d];
      continue;
    }
    Tensor window = make_view(plan.out, t.sizes(), plan.out.strides(), offset * plan.out.strides()[d]);
    plan.pieces.push_back({&t, offset, window});
    offset += t.sizes()[d];
  }
  return plan;
}

}  // namespace vt
