#pragma once
// vt::_fused_cross_entropy and its backward: argument checks, the reduction, and the math on ops
// that every device can run. See Note [Fused cross-entropy].
#include <string>

#include "ops/ops.h"
#include "ops/reduction_util.h"

namespace vt {

// Note [Fused cross-entropy]
// cross_entropy (Composite) is log_softmax then nll_loss: on CUDA two row kernels forward (plus the
// reduction) and two backward, with the [N, C] log-probabilities written and read back in between.
// When kernels.backend selects the suite's "cross_entropy" family, a CUDA cross_entropy of [N, C]
// logits and int64 [N] targets runs vt::_fused_cross_entropy instead: one kernel writes each row's
// loss and log-sum-exp (kernels/triton/cross_entropy.py), one sum reduces them; the backward is one
// kernel writing dlogits = (softmax - onehot(target)) * grad from the saved log-sum-exp, so the
// log-probabilities never exist. The op returns (loss, logsumexp, count): count is the int64 number
// of rows that are not ignore_index when reduction is mean (the divisor, kept on the device so no
// sync reads it; the backward divides the incoming gradient by it), an empty tensor otherwise.
// The math path (fused_ce_math_*, on ops) gives the same results on every device; the CPU kernels
// and a CUDA launch whose compile was deferred run it.
struct FusedCeArgs {
  int64_t N = 0, C = 0;
  LossReduction reduction = LossReduction::Mean;
};

// Checks that self is a floating [N, C] tensor and target an int64 [N] tensor on its device;
// TypeError / ValueError naming what was given otherwise.
FusedCeArgs check_fused_ce_args(const char* op, const Tensor& self, const Tensor& target, const std::string& reduction);

// Checks the backward's extra operands: grad of the loss's shape ((N) for none, 0-d otherwise),
// the forward's (N) log-sum-exp (fused_ce_lse_dtype) and, for mean, its int64 0-d count.
void check_fused_ce_backward_args(const char* op, const FusedCeArgs& a, const Tensor& self, const Tensor& grad,
                                  const Tensor& lse, const Tensor& count);

// Why cross_entropy cannot take the fused op for these arguments ("" when it can).
std::string fused_ce_unsupported(const Tensor& self, const Tensor& target);

// The int64 0-d count of rows of target that are not ignore_index (the mean's divisor).
Tensor fused_ce_count(const Tensor& target, int64_t ignore_index);
// The dtype of the per-row log-sum-exp: float64 for float64 logits, else float32.
DType fused_ce_lse_dtype(DType logits);
// Per-row float32 losses reduced as `reduction` says, in `dtype`.
Tensor fused_ce_reduce(const Tensor& rows, const Tensor& count, LossReduction reduction, DType dtype);
// The per-row gradient scale as a kernel reads it: grad ('none', [N]) or grad / count ('mean') or
// grad ('sum'), in `dtype` and contiguous; rows read it with stride 0 unless 'none'.
Tensor fused_ce_grad_rows(const Tensor& grad, const Tensor& count, LossReduction reduction, DType dtype);

std::tuple<Tensor, Tensor, Tensor> fused_ce_math_forward(const Tensor& self, const Tensor& target, int64_t ignore_index,
                                                         LossReduction reduction);
Tensor fused_ce_math_backward(const Tensor& grad, const Tensor& self, const Tensor& target, const Tensor& lse,
                              const Tensor& count, int64_t ignore_index, LossReduction reduction);

}  // namespace vt
