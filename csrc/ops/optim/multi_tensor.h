#pragma once
// Argument checks and step constants shared by the CPU and CUDA multi-tensor optimizer kernels.
#include <initializer_list>

#include "ops/ops.h"
#include "ops/optim/adam_update.h"
#include "ops/optim/sgd_update.h"

namespace vt::optim {

// Note [Multi-tensor optimizer step]
// vt::_fused_adamw_ and vt::_fused_sgd_ update every parameter of a bucket (one device, one dtype,
// one step count) in one op: on CUDA one kernel launch per chunk of up to kMaxTensors tensors (the
// pointers travel in the kernel's arguments, ops/cuda/multi_tensor_apply.cuh), on the CPU one loop
// per tensor, instead of about nine elementwise launches per parameter. They are the counterparts
// of torch's fused optimizers (torch._fused_adamw_, torch._fused_sgd_) and serve both
// `fused=True` and the policy optim.step=multi_tensor (Adam/AdamW); optim.step=per_param keeps the
// per-parameter Python loop of elementwise ops that VibeTensor's hand-written optimizers launch.
// Both compute torch's single-tensor formulas, written once for both devices (adam_update.h,
// sgd_update.h), the fused ops in the opmath type in registers. A state list that an option
// switches off (max_exp_avg_sqs without amsgrad, momentum_buffers without momentum) is passed
// empty, as torch does. With kernels.backend=triton the CUDA steps are the suite's optim family
// instead: one Triton launch per bucket over a chunk table (Note [Chunk table] in ops/suite/chunk_table.h).

// One list argument of a multi-tensor op; `optional`: it may be empty.
struct NamedList {
  const char* name;
  const TensorList& tensors;
  bool optional = false;
};

// The lists (params first) are as long as params (an optional one may be empty), and per index
// their tensors have the parameter's shape, one floating dtype, one device, and are contiguous.
void check_lists(const char* op, std::initializer_list<NamedList> lists);

// Marks every tensor of the lists as modified in place (their version counters).
void bump_versions(std::initializer_list<const TensorList*> lists);

// vt::_fused_adamw_ around a device's update(step): the list checks, the step's constants, and
// the version bumps of the tensors updated in place; nothing for empty lists. amsgrad is on when
// max_exp_avg_sqs is not empty.
template <class Update>
void fused_adamw_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, double lr, double beta1,
                      double beta2, double weight_decay, double eps, double step, bool decoupled_weight_decay,
                      bool maximize, Update update) {
  check_lists("_fused_adamw_", {{"params", params}, {"grads", grads}, {"exp_avgs", exp_avgs},
                                {"exp_avg_sqs", exp_avg_sqs}, {"max_exp_avg_sqs", max_exp_avg_sqs, true}});
  if (params.empty()) return;
  update(make_adam_step(lr, beta1, beta2, weight_decay, eps, step, decoupled_weight_decay, maximize,
                        !max_exp_avg_sqs.empty()));
  bump_versions({&params, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs});
}

// Note [Capturable multi-tensor Adam]
// vt::_fused_adamw_capturable_ is vt::_fused_adamw_ for a step captured into a CUDA graph (Adam's
// capturable=True, Note [Capturable Adam] in vibetensor/optim/adam.py): the step counts are float32
// one-element tensors on the parameters' device, one per parameter (torch's state_steps), so nothing is
// read on the host. The op adds one to every count (one launch on CUDA), then updates every parameter
// with the bias corrections of its own new count, computed where the update runs (in double, adam_step_at:
// on CUDA by every thread at the start of its block), in the same launches as _fused_adamw_. A replay of the captured step so
// advances the counts and the corrections, where the host step count of _fused_adamw_ would be baked
// into the graph. Before it, a captured AdamW step ran Adam's per-parameter capturable path: about 14
// elementwise launches per parameter (minigpt's captured step held 1502 kernels against 676 eager on
// an H100). The suite's Triton kernel takes a host step count, so this op runs the native kernels
// whatever kernels.backend says.

// vt::_fused_adamw_capturable_ around a device's update(step): fused_adamw_step's checks, and steps one
// float32 tensor of one element per parameter on the parameters' device; `update` gets the step's
// constants without the bias corrections, which it computes from each count (adam_step_at).
template <class Update>
void fused_adamw_capturable_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                                 const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs,
                                 const TensorList& steps, double lr, double beta1, double beta2, double weight_decay,
                                 double eps, bool decoupled_weight_decay, bool maximize, Update update) {
  const char* op = "_fused_adamw_capturable_";
  check_lists(op, {{"params", params}, {"grads", grads}, {"exp_avgs", exp_avgs}, {"exp_avg_sqs", exp_avg_sqs},
                   {"max_exp_avg_sqs", max_exp_avg_sqs, true}});
  VT_CHECK_VALUE(steps.size() == params.size(), op, ": expected one step count per parameter, got ", steps.size(),
                 " steps for ", params.size(), " params");
  for (size_t i = 0; i < steps.size(); ++i) {
    const Tensor& t = steps[i];
    VT_CHECK(t.defined(), op, ": steps[", i, "] is undefined");
    VT_CHECK(t.dtype() == DType::Float32 && t.numel() == 1 && t.is_contiguous() && t.device() == params[i].device(), op,
             ": expected steps[", i, "] to be a float32 tensor of one element on ", params[i].device(), ", got ",
             shape_str(t.sizes()), " ", t.dtype(), " on ", t.device());
  }
  if (params.empty()) return;
  update(make_adam_step(lr, beta1, beta2, weight_decay, eps, 1.0, decoupled_weight_decay, maximize,
                        !max_exp_avg_sqs.empty()));
  bump_versions({&params, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs, &steps});
}

// vt::_fused_sgd_ around a device's update(step), as fused_adamw_step; momentum_buffers is empty
// exactly when momentum is 0.
template <class Update>
void fused_sgd_step(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers, double lr,
                    double momentum, double dampening, double weight_decay, bool nesterov, bool maximize,
                    bool is_first_step, Update update) {
  VT_CHECK_VALUE(momentum != 0 || momentum_buffers.empty(),
                 "_fused_sgd_: expected no momentum_buffers when momentum is 0, got ", momentum_buffers.size());
  VT_CHECK_VALUE(momentum == 0 || momentum_buffers.size() == params.size(),
                 "_fused_sgd_: expected one momentum buffer per parameter when momentum != 0, got ",
                 momentum_buffers.size(), " momentum_buffers for ", params.size(), " params");
  check_lists("_fused_sgd_", {{"params", params}, {"grads", grads}, {"momentum_buffers", momentum_buffers, true}});
  if (params.empty()) return;
  update(SgdStep{lr, momentum, dampening, weight_decay, nesterov, maximize, is_first_step});
  bump_versions({&params, &momentum_buffers});
}

}  // namespace vt::optim
