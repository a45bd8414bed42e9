#pragma once
// The suite's Triton kernels doing the work of native CUDA ops (softmax.cu, normalization.cu,
// unary.cu). Each function runs its family's kernels and returns true when kernels.backend selects a
// suite backend and the operands are ones the kernels take; otherwise it records why (when a suite
// backend was selected) and returns false, and the caller runs its native kernel.
// See Note [Kernel suite launch path] in ops/suite/launch.h.
#include "core/tensor.h"

namespace vt::suite {

// Softmax or log-softmax over the middle dim of a contiguous [outer, n, inner] layout.
bool softmax_forward(const Tensor& x, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log);
bool softmax_backward(const Tensor& grad, const Tensor& y, const Tensor& grad_input, int64_t outer, int64_t n,
                      int64_t inner, bool log);

// LayerNorm (centered) or RMSNorm over the last `cols` of contiguous x; mean (centered only) and
// rstd are float32 [rows]; w, b may be undefined.
bool norm_forward(bool centered, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Tensor& mean,
                  const Tensor& rstd, int64_t rows, int64_t cols, double eps);
// Gradients of norm_forward; dx, dw, db may be undefined (not wanted).
bool norm_backward(bool centered, const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& mean,
                   const Tensor& rstd, const Tensor& dx, const Tensor& dw, const Tensor& db, int64_t rows, int64_t cols);

// gelu(x) and its gradient over contiguous tensors of one shape.
bool gelu_forward(const Tensor& x, const Tensor& y, bool tanh);
bool gelu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx, bool tanh);

// Cross-entropy of [rows, cols] logits x (last dim contiguous, row stride x.stride(0)) against a
// contiguous int64 target: per-row float32 loss and lse; `bad` (int64 [2], or undefined) records an
// out-of-range target (Note [Cross-entropy bad targets] in ops/cuda/cross_entropy_suite.cu).
bool cross_entropy_forward(const Tensor& x, const Tensor& target, const Tensor& loss, const Tensor& lse, const Tensor& bad,
                           int64_t rows, int64_t cols, int64_t ignore_index);
// dx = (exp(x - lse) - onehot(target)) * dloss[r * dloss_stride], 0 on ignored rows; dloss float32.
bool cross_entropy_backward(const Tensor& x, const Tensor& target, const Tensor& lse, const Tensor& dloss,
                            int64_t dloss_stride, const Tensor& dx, int64_t rows, int64_t cols, int64_t ignore_index);

// Rotary embedding of x viewed as [B, H, T, D] (last dim contiguous) by contiguous cos, sin [T, D / 2]
// into contiguous y [B, H, T, D] (Note [Rotary embedding] in ops/rotary.h).
bool rotary_forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& y, bool inverse);

}  // namespace vt::suite
