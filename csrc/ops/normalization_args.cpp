// Argument checks of layer_norm and rms_norm (see normalization_args.h).
#include "ops/normalization_args.h"

namespace vt {

NormShape check_norm_args(const char* op, const Tensor& input, const IntList& normalized_shape,
                          const std::optional<Tensor>& weight, const std::optional<Tensor>& bias) {
  VT_CHECK_VALUE(!normalized_shape.empty(), op, ": expected normalized_shape to have at least one dim, got []");
  VT_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", input.dtype());
  size_t k = normalized_shape.size(), n = size_t(input.dim());
  bool ok = k <= n;
  for (size_t i = 0; ok && i < k; ++i) ok = input.sizes()[n - k + i] == normalized_shape[i];
  VT_CHECK_VALUE(ok, op, ": given normalized_shape=", shape_str(normalized_shape), ", expected an input whose trailing dims are ",
                 shape_str(normalized_shape), ", but got an input of shape ", shape_str(input.sizes()));
  for (const std::optional<Tensor>* p : {&weight, &bias}) {
    if (!*p) continue;
    const Tensor& t = **p;
    const char* what = p == &weight ? "weight" : "bias";
    VT_CHECK_VALUE(DimVector(t.sizes()) == DimVector(normalized_shape), op, ": expected ", what, " of shape ",
                   shape_str(normalized_shape), " (normalized_shape), got ", shape_str(t.sizes()));
    VT_CHECK_TYPE(is_floating(t.dtype()), op, ": expected a floating point ", what, ", got ", t.dtype());
    VT_CHECK(t.device() == input.device(), op, ": expected ", what, " on the input's device ", input.device(), ", got ",
             t.device());
  }
  NormShape s;
  s.M = numel_of(normalized_shape);
  s.rows = s.M ? input.numel() / s.M : 0;
  return s;
}

namespace {
void check_stats(const char* op, const char* what, const Tensor& t, const Tensor& input, int64_t rows) {
  VT_CHECK_VALUE(t.device() == input.device() && t.dtype() == norm_stats_dtype(input.dtype()) && t.numel() == rows, op,
                 ": expected ", what, " of ", rows, " ", norm_stats_dtype(input.dtype()), " values on ", input.device(),
                 " (the forward's statistics), got ", t.numel(), " ", t.dtype(), " values on ", t.device());
}
}  // namespace

NormShape check_norm_backward_args(const char* op, const Tensor& grad_out, const Tensor& input,
                                   const IntList& normalized_shape, const std::optional<Tensor>& weight,
                                   const std::optional<Tensor>& mean, const Tensor& rstd) {
  NormShape s = check_norm_args(op, input, normalized_shape, weight, std::nullopt);
  VT_CHECK_VALUE(DimVector(grad_out.sizes()) == DimVector(input.sizes()), op, ": grad of shape ", shape_str(grad_out.sizes()),
                 " does not match the input shape ", shape_str(input.sizes()));
  VT_CHECK(grad_out.device() == input.device(), op, ": expected grad on ", input.device(), ", got ", grad_out.device());
  check_stats(op, "rstd", rstd, input, s.rows);
  if (mean && mean->defined()) check_stats(op, "mean", *mean, input, s.rows);
  return s;
}

double default_rms_norm_eps(DType dtype) {
  switch (dtype) {
    case DType::Float64: return 2.220446049250313e-16;
    case DType::Float16: return 0.0009765625;
    case DType::BFloat16: return 0.0078125;
    default: return 1.1920928955078125e-07;
  }
}

}  // namespace vt
