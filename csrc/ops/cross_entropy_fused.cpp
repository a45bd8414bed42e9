// See cross_entropy_fused.h and Note [Fused cross-entropy] there.
#include "ops/cross_entropy_fused.h"

namespace vt {
namespace {

Tensor f32(const Tensor& t) { return t.dtype() == DType::Float32 ? t : ops::to_dtype(t, DType::Float32); }
// The math path computes float64 logits in float64, the others in float32 (as the kernels do).
Tensor opmath(const Tensor& t) { return t.dtype() == DType::Float64 ? t : f32(t); }
Tensor scalar(int64_t v) { return ops::wrap_scalar(Scalar(v)); }

// The log-probabilities from the logits and their per-row log-sum-exp.
Tensor log_probs(const Tensor& x32, const Tensor& lse) { return ops::sub(x32, ops::unsqueeze(lse, 1), Scalar(int64_t(1))); }

}  // namespace

FusedCeArgs check_fused_ce_args(const char* op, const Tensor& self, const Tensor& target, const std::string& reduction) {
  FusedCeArgs a;
  a.reduction = parse_loss_reduction(reduction, op);
  VT_CHECK(self.device() == target.device(), op, ": expected self and target on the same device, got ", self.device(),
           " and ", target.device());
  VT_CHECK_TYPE(is_floating(self.dtype()), op, ": expected floating point logits, got ", self.dtype());
  VT_CHECK_TYPE(target.dtype() == DType::Int64, op, ": expected a target of class indices with dtype int64, got ",
                target.dtype());
  VT_CHECK_VALUE(self.dim() == 2 && self.size(1) >= 1, op, ": expected logits of shape (N, C) with C >= 1, got ",
                 shape_str(self.sizes()));
  VT_CHECK_VALUE(target.dim() == 1 && target.size(0) == self.size(0), op, ": expected a target of shape (",
                 self.size(0), ") for logits of shape ", shape_str(self.sizes()), ", got ", shape_str(target.sizes()));
  a.N = self.size(0);
  a.C = self.size(1);
  return a;
}

void check_fused_ce_backward_args(const char* op, const FusedCeArgs& a, const Tensor& self, const Tensor& grad,
                                  const Tensor& lse, const Tensor& count) {
  for (const Tensor* t : {&grad, &lse, &count})
    VT_CHECK(t->device() == self.device(), op, ": expected grad, logsumexp and count on the logits' device ", self.device(),
             ", got ", t->device());
  DimVector gshape = a.reduction == LossReduction::None ? DimVector{a.N} : DimVector{};
  VT_CHECK_TYPE(is_floating(grad.dtype()), op, ": expected a floating point grad, got ", grad.dtype());
  VT_CHECK_VALUE(DimVector(grad.sizes()) == gshape, op, ": expected a grad of the loss's shape ", shape_str(gshape),
                 ", got ", shape_str(grad.sizes()));
  DType lse_dtype = fused_ce_lse_dtype(self.dtype());
  VT_CHECK_VALUE(lse.dtype() == lse_dtype && DimVector(lse.sizes()) == DimVector{a.N}, op, ": expected a ", lse_dtype,
                 " logsumexp of shape (", a.N, ") (the second output of _fused_cross_entropy), got ",
                 shape_str(lse.sizes()), ", ", lse.dtype());
  if (a.reduction == LossReduction::Mean)
    VT_CHECK_VALUE(count.dtype() == DType::Int64 && count.dim() == 0, op, ": expected an int64 0-d count (the third "
                   "output of _fused_cross_entropy with reduction mean), got ", shape_str(count.sizes()), ", ", count.dtype());
}

DType fused_ce_lse_dtype(DType logits) { return logits == DType::Float64 ? DType::Float64 : DType::Float32; }

std::string fused_ce_unsupported(const Tensor& self, const Tensor& target) {
  if (self.dim() != 2) return "logits that are not 2-d (N, C)";
  if (target.dtype() != DType::Int64 || target.dim() != 1) return "a target that is not int64 class indices of shape (N)";
  if (self.size(1) < 1) return "no classes";
  return "";
}

Tensor fused_ce_count(const Tensor& target, int64_t ignore_index) {
  return ops::sum(ops::ne(target, scalar(ignore_index)), std::nullopt, false, DType::Int64);
}

Tensor fused_ce_reduce(const Tensor& rows, const Tensor& count, LossReduction reduction, DType dtype) {
  Tensor r;
  switch (reduction) {
    case LossReduction::None: r = rows; break;
    case LossReduction::Sum: r = ops::sum(rows, std::nullopt, false, std::nullopt); break;
    case LossReduction::Mean: r = ops::div(ops::sum(rows, std::nullopt, false, std::nullopt), count); break;
  }
  return r.dtype() == dtype ? r : ops::to_dtype(r, dtype);
}

Tensor fused_ce_grad_rows(const Tensor& grad, const Tensor& count, LossReduction reduction, DType dtype) {
  Tensor g = grad.dtype() == dtype ? grad : ops::to_dtype(grad, dtype);
  if (reduction == LossReduction::Mean) g = ops::div(g, count);
  return ops::contiguous(g);
}

std::tuple<Tensor, Tensor, Tensor> fused_ce_math_forward(const Tensor& self, const Tensor& target, int64_t ignore_index,
                                                         LossReduction reduction) {
  Tensor x32 = opmath(self);
  Tensor m = ops::amax(x32, IntList{1}, true);
  Tensor lse_x = ops::add(ops::squeeze(m, IntList{1}),
                        ops::log(ops::sum(ops::exp(ops::sub(x32, m, Scalar(int64_t(1)))), IntList{1}, false, std::nullopt)),
                        Scalar(int64_t(1)));
  Tensor lse = ops::contiguous(lse_x);
  // nll_loss checks the class indices (Note [CUDA index checks] on CUDA).
  Tensor rows = ops::nll_loss(ops::sub(x32, ops::unsqueeze(lse_x, 1), Scalar(int64_t(1))), target, ignore_index, "none");
  Tensor count = reduction == LossReduction::Mean ? fused_ce_count(target, ignore_index)
                                                  : empty_tensor({0}, DType::Int64, self.device());
  return {fused_ce_reduce(rows, count, reduction, self.dtype()), lse, count};
}

Tensor fused_ce_math_backward(const Tensor& grad, const Tensor& self, const Tensor& target, const Tensor& lse,
                              const Tensor& count, int64_t ignore_index, LossReduction reduction) {
  Tensor x32 = opmath(self);
  Tensor logp = log_probs(x32, lse);
  Tensor g = fused_ce_grad_rows(grad, count, reduction, x32.dtype());
  if (reduction != LossReduction::None) g = ops::expand(g, {self.size(0)});
  Tensor dlogp = ops::nll_loss_backward(g, logp, target, ignore_index, "none");
  Tensor dx = ops::log_softmax_backward(dlogp, logp, 1);
  return dx.dtype() == self.dtype() ? dx : ops::to_dtype(dx, self.dtype());
}

}  // namespace vt
