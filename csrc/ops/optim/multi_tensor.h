#pragma once
// Argument checks shared by the CPU and CUDA multi-tensor optimizer kernels.
#include <initializer_list>

#include "ops/ops.h"
#include "ops/optim/adam_update.h"

namespace vt::optim {

// Note [Multi-tensor optimizer step]
// vt::_fused_adamw_ updates every parameter of a group in one op: on CUDA one kernel launch per
// chunk of up to kMaxTensors tensors (the pointers travel in the kernel's arguments), instead of
// about nine elementwise launches per parameter. This is the path of optim.step=multi_tensor, the
// counterpart of torch's foreach/fused optimizers; optim.step=per_param keeps the per-parameter
// Python loop of elementwise ops that VibeTensor's hand-written optimizers launch. Both compute
// torch's single-tensor formulas (adam_update.h), the fused op in the opmath type in registers.

// params, grads, exp_avgs and exp_avg_sqs: equal lengths, and per index equal shapes, one dtype
// (floating), one device, contiguous.
void check_adam_lists(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs);

// Marks every tensor of the lists as modified in place (their version counters).
void bump_versions(std::initializer_list<const TensorList*> lists);

// vt::_fused_adamw_ around a device's update(step): the list checks, the step's constants, and
// the version bumps of the tensors updated in place; nothing for empty lists.
template <class Update>
void fused_adamw_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs, double lr, double beta1, double beta2, double weight_decay,
                      double eps, double step, bool decoupled_weight_decay, bool maximize, Update update) {
  check_adam_lists(params, grads, exp_avgs, exp_avg_sqs);
  if (params.empty()) return;
  update(make_adam_step(lr, beta1, beta2, weight_decay, eps, step, decoupled_weight_decay, maximize));
  bump_versions({&params, &exp_avgs, &exp_avg_sqs});
}

}  // namespace vt::optim
