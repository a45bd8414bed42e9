#pragma once
// Argument checks shared by the CPU and CUDA multi-tensor optimizer kernels.
#include <initializer_list>

#include "ops/ops.h"

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

}  // namespace vt::optim
