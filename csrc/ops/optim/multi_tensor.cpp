#include "ops/optim/multi_tensor.h"

#include <algorithm>

#include "core/shape.h"

namespace vt::optim {

void check_adam_lists(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs) {
  const size_t n = params.size();
  VT_CHECK_VALUE(grads.size() == n && exp_avgs.size() == n && exp_avg_sqs.size() == n,
                 "_fused_adamw_: expected lists of equal length, got ", n, " params, ", grads.size(), " grads, ",
                 exp_avgs.size(), " exp_avgs and ", exp_avg_sqs.size(), " exp_avg_sqs");
  if (n == 0) return;
  const DType dt = params[0].dtype();
  const Device dev = params[0].device();
  VT_CHECK_TYPE(is_floating(dt), "_fused_adamw_: expected floating point parameters, got ", dt);
  for (size_t i = 0; i < n; ++i) {
    for (const Tensor* t : {&params[i], &grads[i], &exp_avgs[i], &exp_avg_sqs[i]}) {
      VT_CHECK(t->defined(), "_fused_adamw_: tensor ", i, " of a list is undefined (a parameter without grad?)");
      VT_CHECK_TYPE(t->dtype() == dt, "_fused_adamw_: expected every tensor to be ", dt, ", got ", t->dtype(),
                    " at index ", i);
      VT_CHECK(t->device() == dev, "_fused_adamw_: expected every tensor on ", dev, ", got ", t->device(),
               " at index ", i);
      VT_CHECK(t->is_contiguous(), "_fused_adamw_: expected contiguous tensors, tensor ", i, " is not");
      VT_CHECK_VALUE(std::ranges::equal(t->sizes(), params[i].sizes()), "_fused_adamw_: tensor ", i, " has shape ",
                     shape_str(t->sizes()), " but its parameter has shape ", shape_str(params[i].sizes()));
    }
  }
}

void bump_versions(std::initializer_list<const TensorList*> lists) {
  for (const TensorList* l : lists)
    for (const Tensor& t : *l) t->bump_version();
}

}  // namespace vt::optim
