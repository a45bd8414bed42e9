// CUDA kernels of vt::_fused_cross_entropy and its backward (Note [Fused cross-entropy] in
// ops/cross_entropy_fused.h): the suite's Triton kernels (kernels/triton/cross_entropy.py) launched
// from C++; when the "cross_entropy" family is not selected, the dtype is one the kernels lack, or a
// launch had to defer its compile, the math on ops runs instead, so the ops always answer.
#include "cuda/device.h"
#include "ops/cross_entropy_fused.h"
#include "ops/cuda/index_check.cuh"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

// Note [Cross-entropy bad targets]
// A class index outside [0, C) that is not ignore_index is never read through by the Triton kernel
// (Note [CUDA index checks] holds: a bad index is never dereferenced). Under checks.cuda_index=sync
// the kernel records it in the IndexCheck's buffer and the op raises IndexError at the call, as the
// native nll_loss does. Under device_assert a Triton kernel cannot print and trap as CUDA C++ does,
// so the row's loss and log-sum-exp are NaN instead: the reduced loss and every gradient of that row
// are NaN, loud at the next loss.item(), but the process keeps its CUDA context.

// Logits with a contiguous last dim (the kernels' layout); a single column needs no stride.
Tensor row_major(const Tensor& x) { return x.stride(1) == 1 || x.size(1) == 1 ? x : ops::contiguous(x); }

std::tuple<Tensor, Tensor, Tensor> fused_cross_entropy_cuda(const Tensor& self, const Tensor& target, int64_t ignore_index,
                                                            const std::string& reduction) {
  static constexpr const char* op = "_fused_cross_entropy";
  FusedCeArgs a = check_fused_ce_args(op, self, target, reduction);
  if (suite::selected("cross_entropy")) {
    cuda::DeviceGuard guard(self.device().index);
    Tensor x = row_major(self), t = ops::contiguous(target);
    Tensor rows = empty_tensor({a.N}, DType::Float32, self.device());
    Tensor lse = empty_tensor({a.N}, DType::Float32, self.device());
    IndexCheck chk("_fused_cross_entropy", self.device());
    if (a.N == 0 || suite::cross_entropy_forward(x, t, rows, lse, chk.flag(), a.N, a.C, ignore_index)) {
      chk.raise_if_bad("a class index in [0, ", a.C, ") or ignore_index ", ignore_index);
      Tensor count = a.reduction == LossReduction::Mean ? fused_ce_count(t, ignore_index)
                                                        : empty_tensor({0}, DType::Int64, self.device());
      return {fused_ce_reduce(rows, count, a.reduction, self.dtype()), lse, count};
    }
  }
  return fused_ce_math_forward(self, target, ignore_index, a.reduction);
}

Tensor fused_cross_entropy_backward_cuda(const Tensor& grad, const Tensor& self, const Tensor& target, const Tensor& lse,
                                         const Tensor& count, int64_t ignore_index, const std::string& reduction) {
  static constexpr const char* op = "_fused_cross_entropy_backward";
  FusedCeArgs a = check_fused_ce_args(op, self, target, reduction);
  check_fused_ce_backward_args(op, a, self, grad, lse, count);
  if (suite::selected("cross_entropy")) {
    cuda::DeviceGuard guard(self.device().index);
    Tensor x = row_major(self), t = ops::contiguous(target), l = ops::contiguous(lse);
    Tensor g = fused_ce_grad_rows(grad, count, a.reduction, DType::Float32);  // [N] for none, else 0-d read with stride 0
    Tensor dx = empty_tensor({a.N, a.C}, self.dtype(), self.device());
    int64_t g_stride = a.reduction == LossReduction::None ? 1 : 0;
    if (a.N == 0 || suite::cross_entropy_backward(x, t, l, g, g_stride, dx, a.N, a.C, ignore_index)) return dx;
  }
  return fused_ce_math_backward(grad, self, target, lse, count, ignore_index, a.reduction);
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_cross_entropy", CUDA, fused_cross_entropy_cuda);
VT_REGISTER_KERNEL("vt::_fused_cross_entropy_backward", CUDA, fused_cross_entropy_backward_cuda);

}  // namespace vt::cuda_kernels
