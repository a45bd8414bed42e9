// See families.h. Parameter names and orders are the Triton kernels' (kernels/triton/*.py); the
// tiling is kernels/triton/__init__.py's row_config, mirrored in row_config.h.
#include "ops/suite/families.h"

#include <string>

#include "ops/suite/launch.h"
#include "ops/suite/row_config.h"

namespace vt::suite {
namespace {

using A = Arg;

const KernelDecl kSoftmaxFwd{"softmax", "softmax_fwd",
                             {{"x_ptr", A::ptr}, {"y_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32},
                              {"x_stride", A::i64}, {"y_stride", A::i64}},
                             {"LOG", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kSoftmaxBwd{"softmax", "softmax_bwd",
                             {{"y_ptr", A::ptr}, {"g_ptr", A::ptr}, {"gi_ptr", A::ptr}, {"n_rows", A::i32},
                              {"n_cols", A::i32}, {"y_stride", A::i64}, {"g_stride", A::i64}, {"gi_stride", A::i64}},
                             {"LOG", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kLayerNormFwd{"layer_norm", "layer_norm_fwd",
                               {{"x_ptr", A::ptr}, {"w_ptr", A::ptr}, {"b_ptr", A::ptr}, {"y_ptr", A::ptr},
                                {"mean_ptr", A::ptr}, {"rstd_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32},
                                {"x_stride", A::i64}, {"y_stride", A::i64}, {"eps", A::f32}},
                               {"HAS_WEIGHT", "HAS_BIAS", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kLayerNormBwd{"layer_norm", "layer_norm_bwd_dx",
                               {{"x_ptr", A::ptr}, {"w_ptr", A::ptr}, {"dy_ptr", A::ptr}, {"mean_ptr", A::ptr},
                                {"rstd_ptr", A::ptr}, {"dx_ptr", A::ptr}, {"dw_ptr", A::ptr}, {"db_ptr", A::ptr},
                                {"n_rows", A::i32}, {"n_cols", A::i32}, {"x_stride", A::i64}, {"dy_stride", A::i64},
                                {"dx_stride", A::i64}, {"n_programs", A::i32}},
                               {"HAS_WEIGHT", "HAS_BIAS", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kRmsNormFwd{"rms_norm", "rms_norm_fwd",
                             {{"x_ptr", A::ptr}, {"w_ptr", A::ptr}, {"y_ptr", A::ptr}, {"rstd_ptr", A::ptr},
                              {"n_rows", A::i32}, {"n_cols", A::i32}, {"x_stride", A::i64}, {"y_stride", A::i64},
                              {"eps", A::f32}},
                             {"HAS_WEIGHT", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kRmsNormBwd{"rms_norm", "rms_norm_bwd_dx",
                             {{"x_ptr", A::ptr}, {"w_ptr", A::ptr}, {"dy_ptr", A::ptr}, {"rstd_ptr", A::ptr},
                              {"dx_ptr", A::ptr}, {"dw_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32},
                              {"x_stride", A::i64}, {"dy_stride", A::i64}, {"dx_stride", A::i64},
                              {"n_programs", A::i32}},
                             {"HAS_WEIGHT", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kLayerNormColumns{"layer_norm", "norm_bwd_dwdb",
                                   {{"partial_ptr", A::ptr}, {"out_ptr", A::ptr}, {"n_part_rows", A::i32},
                                    {"n_cols", A::i32}},
                                   {"BLOCK_R", "BLOCK_C"}};
const KernelDecl kRmsNormColumns{"rms_norm", "norm_bwd_dwdb",
                                 {{"partial_ptr", A::ptr}, {"out_ptr", A::ptr}, {"n_part_rows", A::i32},
                                  {"n_cols", A::i32}},
                                 {"BLOCK_R", "BLOCK_C"}};
const KernelDecl kGeluFwd{"gelu", "gelu_fwd", {{"x_ptr", A::ptr}, {"y_ptr", A::ptr}, {"n", A::i64}}, {"APPROX", "BLOCK"}};
const KernelDecl kGeluBwd{"gelu", "gelu_bwd", {{"x_ptr", A::ptr}, {"dy_ptr", A::ptr}, {"dx_ptr", A::ptr}, {"n", A::i64}},
                          {"APPROX", "BLOCK"}};
const KernelDecl kCrossEntropyFwd{"cross_entropy", "cross_entropy_fwd",
                                  {{"x_ptr", A::ptr}, {"target_ptr", A::ptr}, {"loss_ptr", A::ptr}, {"lse_ptr", A::ptr},
                                   {"bad_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32}, {"x_stride", A::i64},
                                   {"ignore_index", A::i64}},
                                  {"CHECK", "ROWS", "BLOCK", "SINGLE"}};
const KernelDecl kCrossEntropyBwd{"cross_entropy", "cross_entropy_bwd",
                                  {{"x_ptr", A::ptr}, {"target_ptr", A::ptr}, {"lse_ptr", A::ptr}, {"dloss_ptr", A::ptr},
                                   {"dx_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32}, {"x_stride", A::i64},
                                   {"dx_stride", A::i64}, {"dloss_stride", A::i64}, {"ignore_index", A::i64},
                                   {"scale", A::f32}},
                                  {"ROWS", "BLOCK"}};
const KernelDecl kRotary{"rotary", "rotary_fwd",
                        {{"x_ptr", A::ptr}, {"cos_ptr", A::ptr}, {"sin_ptr", A::ptr}, {"y_ptr", A::ptr},
                         {"xb_stride", A::i64}, {"xh_stride", A::i64}, {"xt_stride", A::i64}, {"n_heads", A::i32},
                         {"n_pos", A::i32}},
                        {"INVERSE", "HALF", "BLOCK_H", "BLOCK_T"}};
// kernels/triton/rotary.py: config_rotary_fwd
constexpr int64_t kRotaryMaxBlockH = 128, kRotaryTileElems = 2048;
constexpr int64_t kMaxGridY = 65535;

constexpr int64_t kGeluBlock = 1024;
constexpr int64_t kColumnsBlockR = 32, kColumnsBlockC = 64;
constexpr int64_t kMaxI32 = (int64_t(1) << 31) - 1;

// The dtypes the suite's kernels take (they compute in float32 and store in the tensor's dtype).
bool suite_dtype(DType d) { return d == DType::Float32 || d == DType::BFloat16 || d == DType::Float16; }

// True when `family` is selected and the operands are ones its kernels take; else records why.
bool usable(const char* family, DType d, int64_t rows, int64_t cols) {
  if (!selected(family)) return false;
  if (!suite_dtype(d)) {
    fallback(family, d == DType::Float64 ? "dtype float64 (the kernels take float32, bfloat16, float16)"
                                         : "an integer or bool dtype (the kernels take float32, bfloat16, float16)");
    return false;
  }
  if (rows > kMaxI32 || cols > kMaxI32) {
    fallback(family, "more than 2^31 - 1 rows or columns");
    return false;
  }
  return true;
}

// Column sums of a float32 [n_part, cols] buffer into `out` (norm_bwd_dwdb).
bool column_sums(const KernelDecl& k, const Tensor& partial, const Tensor& out, int64_t n_part, int64_t cols) {
  return Launch(k, out).ptr(partial).ptr(out).i32(n_part).i32(cols).constant(kColumnsBlockR).constant(kColumnsBlockC)
      .warps(4).run(cdiv(cols, kColumnsBlockC));
}

}  // namespace

bool softmax_forward(const Tensor& x, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (!usable("softmax", x.dtype(), outer, n)) return false;
  if (inner != 1) {
    fallback("softmax", "softmax over a dim that is not the last");
    return false;
  }
  RowConfig c = row_config(n);
  return Launch(kSoftmaxFwd, x).ptr(x).ptr(y).i32(outer).i32(n).i64(n).i64(n)
      .constant(log).constant(c.rows).constant(c.block).constant(c.single).warps(c.warps).run(cdiv(outer, c.rows));
}

bool softmax_backward(const Tensor& grad, const Tensor& y, const Tensor& grad_input, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  if (!usable("softmax", y.dtype(), outer, n)) return false;
  if (inner != 1) {
    fallback("softmax", "softmax over a dim that is not the last");
    return false;
  }
  RowConfig c = row_config(n);
  return Launch(kSoftmaxBwd, y).ptr(y).ptr(grad).ptr(grad_input).i32(outer).i32(n).i64(n).i64(n).i64(n)
      .constant(log).constant(c.rows).constant(c.block).constant(c.single).warps(c.warps).run(cdiv(outer, c.rows));
}

bool norm_forward(bool centered, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Tensor& mean,
                  const Tensor& rstd, int64_t rows, int64_t cols, double eps) {
  const char* family = centered ? "layer_norm" : "rms_norm";
  if (!usable(family, x.dtype(), rows, cols)) return false;
  RowConfig c = row_config(cols);
  DType pd = w.defined() ? w.dtype() : x.dtype();
  Launch l(centered ? kLayerNormFwd : kRmsNormFwd, x);
  l.ptr(x);
  w.defined() ? l.ptr(w) : l.null(pd);
  if (centered) b.defined() ? l.ptr(b) : l.null(pd);
  l.ptr(y);
  if (centered) l.ptr(mean);
  l.ptr(rstd).i32(rows).i32(cols).i64(cols).i64(cols).f32(eps).constant(w.defined());
  if (centered) l.constant(b.defined());
  l.constant(c.rows).constant(c.block).constant(c.single).warps(c.warps);
  return l.run(cdiv(rows, c.rows));
}

bool norm_backward(bool centered, const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& mean,
                   const Tensor& rstd, const Tensor& dx_in, const Tensor& dw, const Tensor& db, int64_t rows,
                   int64_t cols) {
  const char* family = centered ? "layer_norm" : "rms_norm";
  if (!usable(family, x.dtype(), rows, cols)) return false;
  auto [c, programs] = persistent_row_config(rows, cols, sm_count(x.device().index));
  // The kernel always writes dx, and a partial row per program of each parameter it has.
  Tensor dx = dx_in.defined() ? dx_in : empty_tensor(x.sizes(), x.dtype(), x.device());
  bool has_w = w.defined(), has_b = centered && db.defined();
  Tensor dw_part = has_w ? empty_tensor({programs, cols}, DType::Float32, x.device()) : Tensor();
  Tensor db_part = has_b ? empty_tensor({programs, cols}, DType::Float32, x.device()) : Tensor();
  DType pd = has_w ? w.dtype() : x.dtype();
  Launch l(centered ? kLayerNormBwd : kRmsNormBwd, x);
  l.ptr(x);
  has_w ? l.ptr(w) : l.null(pd);
  l.ptr(dy);
  if (centered) l.ptr(mean);
  l.ptr(rstd).ptr(dx);
  has_w ? l.ptr(dw_part) : l.null(DType::Float32);
  if (centered) has_b ? l.ptr(db_part) : l.null(DType::Float32);
  l.i32(rows).i32(cols).i64(cols).i64(cols).i64(cols).i32(programs).constant(has_w);
  if (centered) l.constant(has_b);
  l.constant(c.rows).constant(c.block).constant(c.single).warps(c.warps);
  if (!l.run(programs)) return false;
  const KernelDecl& columns = centered ? kLayerNormColumns : kRmsNormColumns;
  // A deferred compile here leaves dw or db unset: the caller then computes all three natively.
  if (dw.defined() && !column_sums(columns, dw_part, dw, programs, cols)) return false;
  if (has_b && !column_sums(columns, db_part, db, programs, cols)) return false;
  return true;
}

bool gelu_forward(const Tensor& x, const Tensor& y, bool tanh) {
  int64_t n = x.numel();
  if (!usable("gelu", x.dtype(), 1, 1)) return false;
  return Launch(kGeluFwd, x).ptr(x).ptr(y).i64(n).constant(tanh).constant(kGeluBlock).warps(4).run(cdiv(n, kGeluBlock));
}

bool gelu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx, bool tanh) {
  int64_t n = x.numel();
  if (!usable("gelu", x.dtype(), 1, 1)) return false;
  return Launch(kGeluBwd, x).ptr(x).ptr(dy).ptr(dx).i64(n).constant(tanh).constant(kGeluBlock).warps(4)
      .run(cdiv(n, kGeluBlock));
}

bool rotary_forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& y, bool inverse) {
  int64_t B = x.size(0), H = x.size(1), T = x.size(2), half = x.size(3) / 2;
  if (!usable("rotary", x.dtype(), T, x.size(3))) return false;
  if (!suite_dtype(cos.dtype()) || !suite_dtype(y.dtype())) {
    fallback("rotary", "float64 cos / sin (the kernel takes float32, bfloat16, float16)");
    return false;
  }
  if (B * H > kMaxGridY) {
    fallback("rotary", "more than 65535 (batch, head) pairs");
    return false;
  }
  int64_t block_h = std::min(std::max<int64_t>(16, next_pow2(half)), kRotaryMaxBlockH);
  int64_t block_t = std::max<int64_t>(8, kRotaryTileElems / (2 * block_h));
  return Launch(kRotary, x).ptr(x).ptr(cos).ptr(sin).ptr(y).i64(x.stride(0)).i64(x.stride(1)).i64(x.stride(2)).i32(H)
      .i32(T).constant(inverse).constant(half).constant(block_h).constant(block_t).warps(4)
      .run(cdiv(T, block_t), B * H, cdiv(half, block_h));
}

bool cross_entropy_forward(const Tensor& x, const Tensor& target, const Tensor& loss, const Tensor& lse, const Tensor& bad,
                           int64_t rows, int64_t cols, int64_t ignore_index) {
  if (!usable("cross_entropy", x.dtype(), rows, cols)) return false;
  RowConfig c = row_config(cols);
  Launch l(kCrossEntropyFwd, x);
  l.ptr(x).ptr(target).ptr(loss).ptr(lse);
  bad.defined() ? l.ptr(bad) : l.null(DType::Int64);
  l.i32(rows).i32(cols).i64(x.stride(0)).i64(ignore_index).constant(bad.defined()).constant(c.rows).constant(c.block)
      .constant(c.single).warps(c.warps);
  return l.run(cdiv(rows, c.rows));
}

bool cross_entropy_backward(const Tensor& x, const Tensor& target, const Tensor& lse, const Tensor& dloss,
                            int64_t dloss_stride, const Tensor& dx, int64_t rows, int64_t cols, int64_t ignore_index) {
  if (!usable("cross_entropy", x.dtype(), rows, cols)) return false;
  RowConfig c = row_config(cols);  // config_cross_entropy_bwd: row_config without SINGLE
  return Launch(kCrossEntropyBwd, x).ptr(x).ptr(target).ptr(lse).ptr(dloss).ptr(dx).i32(rows).i32(cols).i64(x.stride(0))
      .i64(dx.stride(0)).i64(dloss_stride).i64(ignore_index).f32(1.0).constant(c.rows).constant(c.block).warps(c.warps)
      .run(cdiv(rows, c.rows));
}

}  // namespace vt::suite
