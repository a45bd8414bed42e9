#pragma once
// Fused CPU layer_norm and rms_norm over the trailing normalized_shape dims: the forward keeps
// the per-row statistics its autograd node needs, and the backward computes every gradient in
// one pass over the rows. See Note [Normalization kernels] in normalization.cpp.
#include <array>
#include <optional>
#include <tuple>

#include "ops/ops.h"

namespace vt::cpu {

struct NormForward {
  Tensor out;
  Tensor mean;  // per row, in the accumulation dtype (float32, or float64 for float64 input); undefined for rms_norm
  Tensor rstd;  // per row: 1 / sqrt(var + eps) (layer_norm) or 1 / sqrt(mean(x^2) + eps) (rms_norm)
};

NormForward layer_norm_forward(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                               const std::optional<Tensor>& bias, double eps);
NormForward rms_norm_forward(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                             std::optional<double> eps);

// Gradients of (input, weight, bias) for grad_out; only those flagged in `need` are computed
// (the others are undefined). mean undefined means rms_norm (no centering, no bias).
std::tuple<Tensor, Tensor, Tensor> norm_backward(const Tensor& grad_out, const Tensor& input, const Tensor& mean,
                                                 const Tensor& rstd, const std::optional<Tensor>& weight,
                                                 const IntList& normalized_shape, std::array<bool, 3> need);

// torch's default rms_norm eps: the machine epsilon of the input dtype.
double default_rms_norm_eps(DType dtype);

}  // namespace vt::cpu
