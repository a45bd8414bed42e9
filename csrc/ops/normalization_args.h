#pragma once
// Argument checks and shapes of layer_norm and rms_norm, shared by the kernels of every device:
// the input is viewed as [rows, M], M = numel(normalized_shape), one row per normalized group.
#include <optional>

#include "ops/ops.h"

namespace vt {

struct NormShape {
  int64_t rows = 0, M = 0;
};

// Checks the input's trailing dims against normalized_shape and the shapes and dtypes of weight
// and bias (either may be absent); ValueError / TypeError naming what was given otherwise.
NormShape check_norm_args(const char* op, const Tensor& input, const IntList& normalized_shape,
                          const std::optional<Tensor>& weight, const std::optional<Tensor>& bias);

// The checks of the backward (op layer_norm_backward when mean is given, else rms_norm_backward):
// check_norm_args, a grad of the input's shape and device, and the forward's statistics (rstd,
// mean) of one value per row in norm_stats_dtype on the input's device.
NormShape check_norm_backward_args(const char* op, const Tensor& grad_out, const Tensor& input,
                                   const IntList& normalized_shape, const std::optional<Tensor>& weight,
                                   const std::optional<Tensor>& mean, const Tensor& rstd);

// The dtype of the saved per-row statistics: float64 for float64 input, float32 otherwise.
inline DType norm_stats_dtype(DType input) { return input == DType::Float64 ? DType::Float64 : DType::Float32; }

// torch's default rms_norm eps: the machine epsilon of the input dtype.
double default_rms_norm_eps(DType dtype);

}  // namespace vt
