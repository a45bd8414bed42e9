#pragma once
// The suite's Triton kernels doing the work of native CUDA ops (softmax.cu, normalization.cu,
// unary.cu). Each function runs its family's kernels and returns true when kernels.backend selects a
// suite backend and the operands are ones the kernels take; otherwise it records why (when a suite
// backend was selected) and returns false, and the caller runs its native kernel.
// See Note [Kernel suite launch path] in ops/suite/launch.h.
#include <optional>

#include "core/tensor.h"
#include "ops/matmul_geometry.h"
#include "ops/optim/adam_update.h"
#include "ops/optim/sgd_update.h"
#include "ops/suite/chunk_table.h"

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
// gelu(x + bias) of x seen as row-major [rows, cols] (unit column stride, rows x_stride apart) and a
// contiguous bias [cols] into contiguous y; the backward writes contiguous dx and dbias [cols] (in the
// bias's dtype) from dy seen likewise. Note [Bias GELU] in ops/bias_gelu.h.
bool bias_gelu_forward(const Tensor& x, int64_t x_stride, const Tensor& bias, const Tensor& y, int64_t rows,
                       int64_t cols, bool tanh);
bool bias_gelu_backward(const Tensor& x, int64_t x_stride, const Tensor& bias, const Tensor& dy, int64_t dy_stride,
                        const Tensor& dx, const Tensor& dbias, int64_t rows, int64_t cols, bool tanh);

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

// Embedding (kernels/triton/embedding.py): out (contiguous [n, dim]) = the rows idx (contiguous int64 or int32,
// n of them) of w (columns contiguous); `bad` (int64 [2], or undefined) records a bad index (Note [CUDA index
// checks] in ops/cuda/index_check.cuh). embedding_backward_accepts asks before the backward's buffers are
// made; embedding_backward then sums g (contiguous [n, dim]) into gw (contiguous [n_weights, dim], zeroed) over
// the stably sorted indices and their positions (int64 [n]) through float32 partial [n, dim] (Note
// [Deterministic embedding backward] in ops/cuda/embedding.cu).
bool embedding_forward(const Tensor& w, const Tensor& idx, const Tensor& out, const Tensor& bad, int64_t n, int64_t dim);
bool embedding_backward_accepts(const Tensor& g, int64_t n, int64_t dim);
bool embedding_backward(const Tensor& sorted_idx, const Tensor& sorted_pos, const Tensor& g, const Tensor& partial,
                        const Tensor& gw, const Tensor& bad, int64_t n, int64_t dim);

// 2-d convolution as implicit GEMMs over contiguous NCHW tensors, groups 1 (kernels/triton/conv.py,
// Note [Implicit GEMM convolution] there). y, dx: contiguous outputs; bias may be undefined.
// conv2d_weight_grad writes float32 partial sums [splits, OC, C * KH * KW] that the caller adds;
// conv2d_wgrad_split_len gives the positions per split (and so the splits) for the device.
struct ConvGeometry {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw;
};
bool conv2d_accepts(const Tensor& x, const Tensor& weight, const ConvGeometry& g);
bool conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
bool conv2d_input_grad(const Tensor& dy, const Tensor& weight, const Tensor& dx, const ConvGeometry& g);
int64_t conv2d_wgrad_split_len(const Tensor& dy, const ConvGeometry& g);
bool conv2d_weight_grad(const Tensor& dy, const Tensor& x, const Tensor& partial, int64_t split_len,
                        const ConvGeometry& g);

// The optim family: one launch of adam_multi / sgd_multi (kernels/triton/optim.py) updates a whole
// bucket of vt::_fused_adamw_ / vt::_fused_sgd_, reading its tensors from `table`, the device copy
// of t (Note [Chunk table] in ops/suite/chunk_table.h); `like` is the bucket's first parameter.
// optim_accepts asks first, before the table is built.
bool optim_accepts(const Tensor& like);
bool adam_multi(const Tensor& table, const ChunkTable& t, const Tensor& like, const optim::AdamStep& s);
bool sgd_multi(const Tensor& table, const ChunkTable& t, const Tensor& like, const optim::SgdStep& s);
// vt::_fused_clip_grad_norm_ (Note [Multi-tensor gradient clipping] in ops/optim/clip_grad_norm.h) over the
// gradients of `table` (one list; `like` the first gradient): sumsq_multi writes each row's sum of squares
// into float32 `partial` [t.n_rows], clip_coef sums them into float32 `out` [2] = [norm, coefficient], and
// scale_multi multiplies the gradients by out[1] unless it is 1. Three launches, no host sync.
bool clip_grad_norm(const Tensor& table, const ChunkTable& t, const Tensor& like, const Tensor& partial,
                    const Tensor& out, double max_norm);

// Note [Suite scope]
// kernels.scope says which ops the suite serves when kernels.backend selects it. `fused` (tuned):
// the families above, the fused kernels that beat their native counterparts. `all` (vibe): also
// the matmuls, the binary arithmetic and the strided copies, the kernels VibeTensor's examples
// launch from Python through vibe_kernels (gemm/vbt_native.py: a Triton GEMM, float32 without TF32,
// its launch packed in Python under a module lock; the elementwise and copy kernels of
// python/vibetensor). Under kernels.launch=python each of those launches then crosses into
// Python, which is how nearly every kernel of a VibeTensor training step is launched. An op outside
// the scope runs natively without a fallback record: the suite was not asked.
bool scope_all();

// Whether the suite runs out = x OP y (else records why, when it was asked): asked before the
// operands are prepared, so a refused op never makes scalars.cuda's device copy twice.
bool binary_accepts(const Tensor& out, const Tensor& x, const Tensor& y, bool x_cpu_scalar, bool y_cpu_scalar);
// out = x OP y over operands broadcast to out's shape (out may be a strided in-place self), after
// binary_accepts; a value given for x or y stands for a CPU scalar operand (its tensor is unused).
enum class BinaryOp : int { add = 0, sub = 1, mul = 2, div = 3 };
bool binary(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, double alpha,
            std::optional<double> x_value, std::optional<double> y_value);
// dst = src (src broadcast to dst's shape, converted to dst's float dtype), both on one CUDA device.
bool copy(const Tensor& dst, const Tensor& src);
// How matmul_fwd and binary_fwd would be launched, or why not (shape rules only; the policy and dtype
// checks are the ops'): what the ops launch, and what tests compare with the Python kernels' contracts.
struct MatmulPlan {
  bool ok = false;
  const char* why = "";
  int64_t m = 0, n = 0, k = 0, batches = 1, grid_x = 0;
  int64_t strides[8] = {};  // stride_ab, stride_am, stride_ak, stride_bb, stride_bk, stride_bn, stride_cb, stride_cm
  int64_t precision = 0, a_unit = 0, b_unit = 0, block_m = 0, block_n = 0, block_k = 0, group_m = 0;
  int warps = 4, stages = 3;
  MatmulPlan& refuse(const char* reason) { why = reason; return *this; }
};
MatmulPlan plan_matmul(const Tensor& a, const Tensor& b, const matmul::Problem& p);

struct ElementwisePlan {
  bool ok = false, flat = false;
  const char* why = "";
  int64_t sizes[4] = {};        // d0..d3 (the kernel takes d1..d3)
  int64_t strides[3][4] = {};   // x, y, out
  ElementwisePlan& refuse(const char* reason) { why = reason; return *this; }
};
// x or y undefined: a scalar operand.
ElementwisePlan plan_elementwise(const Tensor& out, const Tensor& x, const Tensor& y);

// Note [Float32 products]
// A float32 matmul can multiply in three ways (the PRECISION of kernels/triton/matmul.py): IEEE (FMA
// in float32, as cuBLAS's CUBLAS_COMPUTE_32F and PyTorch's default), TF32 (tensor cores round the
// inputs to 10 mantissa bits; vt.backends.cuda.matmul.allow_tf32), or TF32x3 (each input split into a
// TF32 head and the TF32 of its remainder, three tensor-core products of heads and tails summed in
// float32, the tail x tail one dropped: CUTLASS's 3xTF32, about float32's accuracy).
// kernels.fp32_matmul=tf32x3 sends a float32 matmul to the suite's Triton GEMM in TF32x3 when its
// output has at least as many 128 x 64 tiles as the GPU has SMs. On an H100 at the workloads' shapes
// (benchmarks/bench_gemm_precision.py, results/gpu/2026-12-07-h100-s32) that kernel takes 0.60x to
// 0.98x cuBLAS's IEEE time on the forward and input-gradient products, with a smaller error against
// float64 (2e-7 against 8e-7 relative); the weight gradient's products (a few hundred output rows,
// the token rows reduced) leave too few tiles, and split over the reduction they took 1.3x cuBLAS's
// time, so they stay on cuBLAS. With TF32 allowed, cuBLAS's TF32 is faster still and serves.
// The PRECISION constexpr of the matmul and attention kernels for operands of dtype d: 0 for 2-byte
// operands and for float32 with TF32 allowed, 2 (TF32x3) under kernels.fp32_matmul=tf32x3, else 1 (IEEE).
int64_t product_precision(DType d);
bool fp32_tensor_core_product(const Tensor& a, const matmul::Problem& p);

// out (contiguous, of p.out_shape) = a @ b for the problem matmul::plan(a, b) gave.
bool matmul(const Tensor& a, const Tensor& b, const Tensor& out, const matmul::Problem& p);

}  // namespace vt::suite
