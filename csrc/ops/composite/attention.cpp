// scaled_dot_product_attention as a composite of matmul, masking, softmax and dropout, as
// torch's math reference: softmax(q @ k^T * scale + mask) @ v. On CUDA, when kernels.backend selects
// the suite's "attention" family, inputs the fused kernels take run vt::_fused_attention instead
// (Note [Fused attention] in kernels/triton/attention.py); the others run the math path and the
// suite's report says why.
#include <cmath>

#include "ops/attention_args.h"
#include "ops/ops.h"
#include "ops/suite/launch.h"

namespace vt::composite {
namespace {

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const std::optional<Tensor>& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  VT_CHECK_VALUE(!(attn_mask && is_causal), op, ": attn_mask and is_causal cannot both be set (got an explicit attn_mask "
                 "with is_causal=True)");
  VT_CHECK_VALUE(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2, op, ": expected query, key and value with at least "
                 "2 dims (..., L, E), got shapes ", shape_str(query.sizes()), ", ", shape_str(key.sizes()), ", ",
                 shape_str(value.sizes()));
  int64_t E = query.sizes().back(), L = query.sizes()[query.dim() - 2], S = key.sizes()[key.dim() - 2];
  VT_CHECK_VALUE(key.sizes().back() == E, op, ": query and key must have the same embedding size, got query of shape ",
                 shape_str(query.sizes()), " and key of shape ", shape_str(key.sizes()));
  VT_CHECK_VALUE(value.sizes()[value.dim() - 2] == S, op, ": key and value must have the same sequence length, got key of "
                 "shape ", shape_str(key.sizes()), " and value of shape ", shape_str(value.sizes()));
  VT_CHECK_VALUE(dropout_p >= 0.0 && dropout_p <= 1.0, op, ": dropout_p has to be between 0 and 1, but got ", dropout_p);
  double s = scale ? *scale : 1.0 / std::sqrt(double(E));
  if (query.device().is_cuda() && suite::selected("attention")) {
    std::string why = attn_mask ? "an attn_mask is given"
                      : dropout_p > 0.0 ? "dropout_p > 0"
                                        : fused_attention_unsupported(query, key, value);
    if (why.empty()) return std::get<0>(ops::_fused_attention(query, key, value, is_causal, s));
    suite::fallback("attention", why);
  }
  Tensor scores = ops::mul(ops::matmul(query, ops::transpose(key, -2, -1)), ops::wrap_scalar(Scalar(s)));
  Scalar neg_inf(-INFINITY);
  if (is_causal) {
    // Query i attends to keys j <= i (the top-left aligned lower triangle, as torch).
    Tensor rows = ops::view(ops::arange(Scalar(int64_t(0)), Scalar(L), Scalar(int64_t(1)), DType::Int64, query.device()), {L, 1});
    Tensor cols = ops::view(ops::arange(Scalar(int64_t(0)), Scalar(S), Scalar(int64_t(1)), DType::Int64, query.device()), {1, S});
    scores = ops::masked_fill(scores, ops::gt(cols, rows), neg_inf);
  } else if (attn_mask) {
    // A bool mask marks the positions that take part; a float mask is added to the scores.
    if (attn_mask->dtype() == DType::Bool) scores = ops::masked_fill(scores, ops::logical_not(*attn_mask), neg_inf);
    else {
      VT_CHECK_TYPE(is_floating(attn_mask->dtype()), op, ": attn_mask must be a bool or floating point tensor, got ",
                    attn_mask->dtype());
      // In the scores' dtype, so a float64 mask does not promote a float32 attention.
      Tensor m = attn_mask->dtype() == scores.dtype() ? *attn_mask : ops::to_dtype(*attn_mask, scores.dtype());
      scores = ops::add(scores, m, Scalar(int64_t(1)));
    }
  }
  Tensor attn = ops::softmax(scores, -1);
  if (dropout_p > 0.0) attn = ops::dropout(attn, dropout_p, true);
  return ops::matmul(attn, value);
}

}  // namespace

VT_REGISTER_KERNEL("vt::scaled_dot_product_attention", Composite, scaled_dot_product_attention);

}  // namespace vt::composite
