// See families.h. Parameter names and orders are the Triton kernels' (kernels/triton/*.py); the
// tiling is kernels/triton/__init__.py's row_config, mirrored in row_config.h.
#include "ops/suite/families.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "ops/matmul_geometry.h"
#include "ops/suite/launch.h"
#include "ops/suite/row_config.h"
#include "policy/catalogue.h"
#if VT_CUDA
#include "cuda/matmul_settings.h"
#endif

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
// norm_bwd_dwdb (kernels/triton/layer_norm.py): the column sums that finish a parameter's gradient,
// declared once per family that launches it so each family's backend serves its own.
const std::vector<Param> kColumnsParams{{"partial_ptr", A::ptr}, {"out_ptr", A::ptr}, {"n_part_rows", A::i32},
                                        {"n_cols", A::i32}};
const std::vector<const char*> kColumnsConstants{"BLOCK_R", "BLOCK_C"};
const KernelDecl kLayerNormColumns{"layer_norm", "norm_bwd_dwdb", kColumnsParams, kColumnsConstants};
const KernelDecl kRmsNormColumns{"rms_norm", "norm_bwd_dwdb", kColumnsParams, kColumnsConstants};
const KernelDecl kGeluColumns{"gelu", "norm_bwd_dwdb", kColumnsParams, kColumnsConstants};
const KernelDecl kGeluFwd{"gelu", "gelu_fwd", {{"x_ptr", A::ptr}, {"y_ptr", A::ptr}, {"n", A::i64}}, {"APPROX", "BLOCK"}};
const KernelDecl kGeluBwd{"gelu", "gelu_bwd", {{"x_ptr", A::ptr}, {"dy_ptr", A::ptr}, {"dx_ptr", A::ptr}, {"n", A::i64}},
                          {"APPROX", "BLOCK"}};
const KernelDecl kBiasGeluFwd{"gelu", "bias_gelu_fwd",
                              {{"x_ptr", A::ptr}, {"b_ptr", A::ptr}, {"y_ptr", A::ptr}, {"n_rows", A::i32},
                               {"n_cols", A::i32}, {"x_stride", A::i64}, {"y_stride", A::i64}},
                              {"APPROX", "ROWS", "BLOCK"}};
const KernelDecl kBiasGeluBwd{"gelu", "bias_gelu_bwd",
                              {{"x_ptr", A::ptr}, {"b_ptr", A::ptr}, {"dy_ptr", A::ptr}, {"dx_ptr", A::ptr},
                               {"db_ptr", A::ptr}, {"n_rows", A::i32}, {"n_cols", A::i32}, {"x_stride", A::i64},
                               {"dy_stride", A::i64}, {"dx_stride", A::i64}, {"n_programs", A::i32}},
                              {"APPROX", "ROWS", "BLOCK"}};
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
const KernelDecl kEmbeddingFwd{"embedding", "embedding_fwd",
                               {{"w_ptr", A::ptr}, {"idx_ptr", A::ptr}, {"out_ptr", A::ptr}, {"bad_ptr", A::ptr},
                                {"n", A::i64}, {"n_cols", A::i32}, {"n_weights", A::i64}, {"w_stride", A::i64}},
                               {"CHECK", "ROWS", "BLOCK"}};
const KernelDecl kEmbeddingPieces{"embedding", "embedding_bwd_pieces",
                                  {{"sorted_idx_ptr", A::ptr}, {"sorted_pos_ptr", A::ptr}, {"g_ptr", A::ptr},
                                   {"partial_ptr", A::ptr}, {"n", A::i64}, {"n_cols", A::i32}},
                                  {"PIECE", "BLOCK"}};
const KernelDecl kEmbeddingSegments{"embedding", "embedding_bwd_segments",
                                    {{"sorted_idx_ptr", A::ptr}, {"partial_ptr", A::ptr}, {"gw_ptr", A::ptr},
                                     {"bad_ptr", A::ptr}, {"n", A::i64}, {"n_cols", A::i32}, {"n_weights", A::i64}},
                                    {"CHECK", "PIECE", "BLOCK"}};
const KernelDecl kMatmul{"matmul", "matmul_fwd",
                         {{"a_ptr", A::ptr}, {"b_ptr", A::ptr}, {"c_ptr", A::ptr}, {"n_m", A::i32}, {"n_n", A::i32},
                          {"n_k", A::i32}, {"stride_ab", A::i64}, {"stride_am", A::i64}, {"stride_ak", A::i64},
                          {"stride_bb", A::i64}, {"stride_bk", A::i64}, {"stride_bn", A::i64}, {"stride_cb", A::i64},
                          {"stride_cm", A::i64}},
                         {"PRECISION", "A_UNIT", "B_UNIT", "BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M"}};
const KernelDecl kBinary{"elementwise", "binary_fwd",
                         {{"x_ptr", A::ptr}, {"y_ptr", A::ptr}, {"out_ptr", A::ptr}, {"n", A::i64},
                          {"alpha", A::f32}, {"scalar", A::f32}, {"d1", A::i64}, {"d2", A::i64}, {"d3", A::i64},
                          {"xs0", A::i64}, {"xs1", A::i64}, {"xs2", A::i64}, {"xs3", A::i64}, {"ys0", A::i64},
                          {"ys1", A::i64}, {"ys2", A::i64}, {"ys3", A::i64}, {"os0", A::i64}, {"os1", A::i64},
                          {"os2", A::i64}, {"os3", A::i64}},
                         {"OPCODE", "SCALAR", "FLAT", "BLOCK"}};
const KernelDecl kAdamMulti{"optim", "adam_multi",
                            {{"rows_ptr", A::ptr}, {"like_ptr", A::ptr}, {"lr_decay", A::f32}, {"weight_decay", A::f32},
                             {"beta1", A::f32}, {"one_minus_beta1", A::f32}, {"beta2", A::f32},
                             {"one_minus_beta2", A::f32}, {"step_size", A::f32}, {"bc2_sqrt", A::f32}, {"eps", A::f32}},
                            {"DECAY", "AMSGRAD", "MAXIMIZE", "ALIGNED", "CHUNK", "BLOCK"}};
const KernelDecl kSgdMulti{"optim", "sgd_multi",
                           {{"rows_ptr", A::ptr}, {"like_ptr", A::ptr}, {"lr", A::f32}, {"weight_decay", A::f32},
                            {"momentum", A::f32}, {"one_minus_dampening", A::f32}},
                           {"MOMENTUM", "FIRST", "NESTEROV", "MAXIMIZE", "HAS_DECAY", "ALIGNED", "CHUNK", "BLOCK"}};
const KernelDecl kSumsqMulti{"optim", "sumsq_multi", {{"rows_ptr", A::ptr}, {"like_ptr", A::ptr}, {"partial_ptr", A::ptr}},
                             {"ALIGNED", "CHUNK", "BLOCK"}};
const KernelDecl kClipCoef{"optim", "clip_coef",
                           {{"partial_ptr", A::ptr}, {"norm_coef_ptr", A::ptr}, {"n_partial", A::i32}, {"max_norm", A::f32}},
                           {"BLOCK"}};
const KernelDecl kScaleMulti{"optim", "scale_multi", {{"rows_ptr", A::ptr}, {"like_ptr", A::ptr}, {"norm_coef_ptr", A::ptr}},
                             {"ALIGNED", "CHUNK", "BLOCK"}};
// kernels/triton/optim.py: config_adam_multi, config_sgd_multi, config_sumsq_multi, config_scale_multi (CHUNK is
// kOptimChunk, chunk_table.h); config_clip_coef
constexpr int64_t kOptimBlock = 1024;
// kernels/triton/matmul.py: config_matmul_fwd
constexpr int64_t kMatmulMaxBlock = 128, kMatmulGroupM = 8;
// kernels/triton/elementwise.py: config_binary_fwd, the copy OPCODE
constexpr int64_t kBinaryBlock = 1024, kCopyOp = 4;
constexpr int kBinaryDims = 4;
// kernels/triton/embedding.py: PIECE, _TILE and _column_block (the config_embedding_* functions)
constexpr int64_t kEmbeddingPiece = 32, kEmbeddingTile = 4096, kEmbeddingMaxBlock = 512, kEmbeddingPiecesMaxBlock = 128;
// kernels/triton/rotary.py: config_rotary_fwd
constexpr int64_t kRotaryMaxBlockH = 128, kRotaryTileElems = 2048;
constexpr int64_t kMaxGridY = 65535;

constexpr int64_t kGeluBlock = 1024;
// kernels/triton/gelu.py: config_bias_gelu_fwd (rows of up to kTileElems elements per program),
// config_bias_gelu_bwd (its tiles, persistent programs)
constexpr int64_t kBiasGeluMaxBlock = 1024;
constexpr int kBiasGeluWarps = 4;
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

// vt.backends.cuda.matmul.allow_tf32 (a CPU-only build has no such setting: plans are IEEE).
bool tf32_allowed() {
#if VT_CUDA
  return cuda::allow_tf32_matmul();
#else
  return false;
#endif
}

constexpr int64_t kTf32 = 0, kIeee = 1, kTf32x3 = 2;  // product_precision

// matmul_fwd's precision and tiles for an m x n output of dtype d: kernels/triton/matmul.py's
// config_matmul_fwd. One rule for the plan and for the tile count that decides whether a TF32x3
// product goes to the suite at all (fp32_tensor_core_product).
struct MatmulTiles {
  int64_t precision, block_m, block_n, block_k;
  int warps, stages;
};

MatmulTiles matmul_tiles(DType d, int64_t m, int64_t n) {
  const int64_t precision = product_precision(d);
  if (precision == kTf32x3) return {precision, 128, 64, 32, 4, 4};
  const int64_t block_m = std::min(kMatmulMaxBlock, std::max<int64_t>(16, next_pow2(m)));
  const int64_t block_n = std::min(kMatmulMaxBlock, std::max<int64_t>(16, next_pow2(n)));
  return {precision, block_m, block_n, itemsize(d) >= 4 ? 32 : 64,
          block_m * block_n >= kMatmulMaxBlock * kMatmulMaxBlock ? 8 : 4, 3};
}

// Operands of an elementwise kernel broadcast to one shape, with size-1 dims dropped and
// neighbouring dims merged where every operand steps through them as one (at most kBinaryDims
// left, else ok = false). strides[k] are operand k's, 0 along its broadcast dims.
struct MergedDims {
  bool ok = true;
  int n = 0;
  int64_t sizes[kBinaryDims] = {};
  int64_t strides[3][kBinaryDims] = {};
};

MergedDims merge_dims(IntArrayRef shape, std::initializer_list<const Tensor*> operands) {
  constexpr int kMaxDims = 64;
  int nd = int(shape.size()), k = 0;
  if (nd > kMaxDims) return MergedDims{false};
  int64_t st[3][kMaxDims] = {};
  for (const Tensor* t : operands) {
    if (t->defined()) {
      int off = nd - int(t->dim());
      for (int d = 0; d < int(t->dim()); ++d)
        if (t->size(d) != 1) st[k][off + d] = t->stride(d);
    }
    ++k;
  }
  MergedDims m;
  int64_t sizes[kMaxDims];
  int64_t strides[3][kMaxDims];
  int n = 0;
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1) continue;
    bool merge = n > 0;
    for (int j = 0; j < k && merge; ++j) merge = strides[j][n - 1] == st[j][d] * shape[d];
    if (merge) {
      sizes[n - 1] *= shape[d];
      for (int j = 0; j < k; ++j) strides[j][n - 1] = st[j][d];
      continue;
    }
    sizes[n] = shape[d];
    for (int j = 0; j < k; ++j) strides[j][n] = st[j][d];
    ++n;
  }
  if (n > kBinaryDims) return MergedDims{false};
  m.n = n;
  // Right-aligned into kBinaryDims dims: the kernel takes d1..d3 and derives d0.
  for (int d = 0; d < kBinaryDims; ++d) {
    int src = d - (kBinaryDims - n);
    m.sizes[d] = src >= 0 ? sizes[src] : 1;
    for (int j = 0; j < k; ++j) m.strides[j][d] = src >= 0 ? strides[j][src] : 0;
  }
  return m;
}

}  // namespace

ElementwisePlan plan_elementwise(const Tensor& out, const Tensor& x, const Tensor& y) {
  ElementwisePlan P;
  MergedDims m = merge_dims(out.sizes(), {&x, &y, &out});
  if (!m.ok) return P.refuse("more than 4 dims left after merging the operands' dims");
  P.ok = true;
  // FLAT needs every tensor operand walked like out; a scalar operand's strides are all 0.
  P.flat = m.n <= 1;
  for (int j = 0; j < 3 && P.flat; ++j) {
    const Tensor& t = j == 0 ? x : j == 1 ? y : out;
    if (t.defined() && m.n == 1 && m.strides[j][kBinaryDims - 1] != 1) P.flat = false;
  }
  std::copy(std::begin(m.sizes), std::end(m.sizes), P.sizes);
  for (int j = 0; j < 3; ++j) std::copy(std::begin(m.strides[j]), std::end(m.strides[j]), P.strides[j]);
  return P;
}

namespace {

// The launch of binary_fwd shared by binary() and copy(); x or y undefined stands for `scalar`.
bool run_elementwise(int64_t op, const Tensor& out, const Tensor& x, const Tensor& y, double alpha, double scalar,
                     int scalar_side) {
  ElementwisePlan P = plan_elementwise(out, x, y);
  if (!P.ok) {
    fallback("elementwise", P.why);
    return false;
  }
  int64_t n = out.numel();
  Launch l(kBinary, out);
  x.defined() ? l.ptr(x) : l.null(out.dtype());
  y.defined() ? l.ptr(y) : l.null(out.dtype());
  l.ptr(out).i64(n).f32(alpha).f32(scalar).i64(P.sizes[1]).i64(P.sizes[2]).i64(P.sizes[3]);
  for (auto& s : P.strides)
    for (int64_t v : s) l.i64(v);
  return l.constant(op).constant(scalar_side).constant(P.flat).constant(kBinaryBlock).warps(4).run(cdiv(n, kBinaryBlock));
}

}  // namespace

bool scope_all() { return policy::kernels_scope.get() == policy::KernelsScope::all; }

bool binary_accepts(const Tensor& out, const Tensor& x, const Tensor& y, bool x_cpu_scalar, bool y_cpu_scalar) {
  if (!scope_all() || out.numel() == 0) return false;
  if (!usable("elementwise", out.dtype(), 1, 1)) return false;
  if ((!x_cpu_scalar && x.dtype() != out.dtype()) || (!y_cpu_scalar && y.dtype() != out.dtype())) {
    fallback("elementwise", "operands of another dtype than the result (the kernel takes one dtype)");
    return false;
  }
  if (x_cpu_scalar && y_cpu_scalar) {
    fallback("elementwise", "two scalar operands");
    return false;
  }
  return true;
}

bool binary(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, double alpha,
            std::optional<double> x_value, std::optional<double> y_value) {
  int side = y_value ? 1 : x_value ? 2 : 0;
  return run_elementwise(int64_t(op), out, x_value ? Tensor() : x, y_value ? Tensor() : y, alpha,
                         x_value ? *x_value : y_value ? *y_value : 0.0, side);
}

bool copy(const Tensor& dst, const Tensor& src) {
  if (!scope_all() || dst.numel() == 0) return false;
  if (!usable("elementwise", dst.dtype(), 1, 1)) return false;
  if (!suite_dtype(src.dtype())) {
    fallback("elementwise", "a copy from an integer, bool or float64 source");
    return false;
  }
  return run_elementwise(kCopyOp, dst, src, Tensor(), 1.0, 0.0, 0);
}

MatmulPlan plan_matmul(const Tensor& a, const Tensor& b, const matmul::Problem& p) {
  MatmulPlan P;
  if (p.k > kMaxI32) return P.refuse("an inner size over 2^31 - 1");
  matmul::Operand A = matmul::make_operand(a, true, p.batch), B = matmul::make_operand(b, false, p.batch);
  int64_t nb = numel_of(p.batch), m = p.m, a_sb = 0, b_sb = 0;
  // One matrix B for every batch and A's rows evenly spaced across batches: one tall product.
  int64_t folded = nb > 1 && matmul::batch_shared(B) ? matmul::folded_row_stride(A, p.batch) : -1;
  if (folded >= 0) {
    m *= nb;
    A.sr = folded;
    nb = 1;
  } else if (nb > 1) {
    a_sb = matmul::uniform_stride(matmul::batch_offsets(p.batch, A.batch_strides));
    b_sb = matmul::uniform_stride(matmul::batch_offsets(p.batch, B.batch_strides));
    if (a_sb < 0 || b_sb < 0) return P.refuse("batches of uneven stride");
  }
  if (nb > kMaxGridY || m > kMaxI32) return P.refuse("more than 65535 batches or 2^31 - 1 rows");
  P.ok = true;
  P.m = m, P.n = p.n, P.k = p.k, P.batches = nb;
  // A unit stride becomes a literal 1 in the kernel and is passed as 0 (kernels/triton/matmul.py).
  P.a_unit = A.sc == 1 ? 1 : A.sr == 1 ? 2 : 0;
  P.b_unit = B.sc == 1 ? 1 : B.sr == 1 ? 2 : 0;
  int64_t strides[8] = {a_sb, P.a_unit == 2 ? 0 : A.sr, P.a_unit == 1 ? 0 : A.sc, b_sb, P.b_unit == 2 ? 0 : B.sr,
                        P.b_unit == 1 ? 0 : B.sc, p.m * p.n, p.n};
  std::copy(std::begin(strides), std::end(strides), P.strides);
  MatmulTiles t = matmul_tiles(a.dtype(), m, p.n);
  P.precision = t.precision, P.block_m = t.block_m, P.block_n = t.block_n, P.block_k = t.block_k;
  P.warps = t.warps, P.stages = t.stages;
  P.group_m = kMatmulGroupM;
  P.grid_x = cdiv(m, P.block_m) * cdiv(p.n, P.block_n);
  return P;
}

int64_t product_precision(DType d) {
  if (d != DType::Float32 || tf32_allowed()) return kTf32;
  return policy::kernels_fp32_matmul.get() == policy::KernelsFp32Matmul::tf32x3 ? kTf32x3 : kIeee;
}

bool fp32_tensor_core_product(const Tensor& a, const matmul::Problem& p) {
  if (product_precision(a.dtype()) != kTf32x3) return false;
  // The rows as plan_matmul folds them when the batches share B (TF32x3 tiles do not depend on them).
  const int64_t rows = p.m * numel_of(p.batch);
  MatmulTiles t = matmul_tiles(a.dtype(), rows, p.n);
  const int64_t n_sms = a.device().is_cuda() ? sm_count(a.device().index) : 1;
  return cdiv(rows, t.block_m) * cdiv(p.n, t.block_n) >= n_sms;
}

bool matmul(const Tensor& a, const Tensor& b, const Tensor& out, const matmul::Problem& p) {
  // Note [Suite scope]; Note [Float32 products]
  const bool tensor_core = !scope_all() && fp32_tensor_core_product(a, p);
  if (!scope_all() && !tensor_core) return false;
  if (!usable("matmul", a.dtype(), p.m, p.n)) return false;
  MatmulPlan P = plan_matmul(a, b, p);
  if (!P.ok) {
    fallback("matmul", P.why);
    return false;
  }
  if (tensor_core && P.batches > 1) return false;  // measured on single (or folded) products only
  Launch l(kMatmul, out);
  l.ptr(a).ptr(b).ptr(out).i32(P.m).i32(P.n).i32(P.k);
  for (int64_t s : P.strides) l.i64(s);
  return l.constant(P.precision).constant(P.a_unit).constant(P.b_unit).constant(P.block_m).constant(P.block_n)
      .constant(P.block_k).constant(P.group_m).warps(P.warps).stages(P.stages).run(P.grid_x, P.batches);
}

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

namespace {

struct BiasGeluTiles {
  int64_t rows, block;
};
BiasGeluTiles bias_gelu_tiles(int64_t cols) {
  int64_t block = std::min(std::max<int64_t>(16, next_pow2(cols)), kBiasGeluMaxBlock);
  return {std::max<int64_t>(1, kTileElems / block), block};
}

// usable, and a grid whose y (the column blocks) fits
bool bias_gelu_usable(const Tensor& x, int64_t rows, int64_t cols) {
  if (!usable("gelu", x.dtype(), rows, cols)) return false;
  if (cdiv(cols, bias_gelu_tiles(cols).block) > kMaxGridY) {
    fallback("gelu", "more than 65535 column blocks of a bias_gelu row");
    return false;
  }
  return true;
}

}  // namespace

bool bias_gelu_forward(const Tensor& x, int64_t x_stride, const Tensor& bias, const Tensor& y, int64_t rows,
                       int64_t cols, bool tanh) {
  if (!bias_gelu_usable(x, rows, cols)) return false;
  BiasGeluTiles t = bias_gelu_tiles(cols);
  return Launch(kBiasGeluFwd, x).ptr(x).ptr(bias).ptr(y).i32(rows).i32(cols).i64(x_stride).i64(cols).constant(tanh)
      .constant(t.rows).constant(t.block).warps(kBiasGeluWarps).run(cdiv(rows, t.rows), cdiv(cols, t.block));
}

bool bias_gelu_backward(const Tensor& x, int64_t x_stride, const Tensor& bias, const Tensor& dy, int64_t dy_stride,
                        const Tensor& dx, const Tensor& dbias, int64_t rows, int64_t cols, bool tanh) {
  if (!bias_gelu_usable(x, rows, cols)) return false;
  BiasGeluTiles t = bias_gelu_tiles(cols);
  // A row of column programs counts as one program of that many warps (config_bias_gelu_bwd).
  int64_t col_blocks = cdiv(cols, t.block);
  int64_t programs = persistent_programs(cdiv(rows, t.rows), int(kBiasGeluWarps * col_blocks), sm_count(x.device().index));
  Tensor partial = empty_tensor({programs, cols}, DType::Float32, x.device());
  // A deferred compile of the column sums leaves dbias unset: the caller then computes both natively.
  return Launch(kBiasGeluBwd, x).ptr(x).ptr(bias).ptr(dy).ptr(dx).ptr(partial).i32(rows).i32(cols).i64(x_stride)
             .i64(dy_stride).i64(cols).i32(programs).constant(tanh).constant(t.rows).constant(t.block)
             .warps(kBiasGeluWarps).run(programs, col_blocks) &&
         column_sums(kGeluColumns, partial, dbias, programs, cols);
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

// kernels/triton/embedding.py's _column_block; false (recorded) when the columns need more than a grid's y
static bool embedding_column_block(int64_t dim, int64_t& block) {
  block = std::clamp<int64_t>(next_pow2(dim), 16, kEmbeddingMaxBlock);
  if (cdiv(dim, block) <= kMaxGridY) return true;
  fallback("embedding", "more than 65535 column blocks");
  return false;
}

bool embedding_forward(const Tensor& w, const Tensor& idx, const Tensor& out, const Tensor& bad, int64_t n, int64_t dim) {
  int64_t block = 0;
  if (!usable("embedding", w.dtype(), n, dim) || !embedding_column_block(dim, block)) return false;
  if (w.stride(1) != 1 && dim > 1) {
    fallback("embedding", "a weight whose columns are not contiguous");
    return false;
  }
  const int64_t rows = std::max<int64_t>(1, kEmbeddingTile / block);
  Launch l(kEmbeddingFwd, w);
  l.ptr(w).ptr(idx).ptr(out);
  bad.defined() ? l.ptr(bad) : l.null(DType::Int64);
  return l.i64(n).i32(dim).i64(w.size(0)).i64(w.stride(0)).constant(bad.defined()).constant(rows).constant(block)
      .warps(4).run(cdiv(n, rows), cdiv(dim, block));
}

bool embedding_backward_accepts(const Tensor& g, int64_t n, int64_t dim) {
  int64_t block = 0;
  return usable("embedding", g.dtype(), n, dim) && embedding_column_block(dim, block);
}

bool embedding_backward(const Tensor& sorted_idx, const Tensor& sorted_pos, const Tensor& g, const Tensor& partial,
                        const Tensor& gw, const Tensor& bad, int64_t n, int64_t dim) {
  int64_t block = 0;
  embedding_column_block(dim, block);  // embedding_backward_accepts took it
  const int64_t pieces_block = std::min(kEmbeddingPiecesMaxBlock, block);
  if (!Launch(kEmbeddingPieces, g).ptr(sorted_idx).ptr(sorted_pos).ptr(g).ptr(partial).i64(n).i32(dim)
           .constant(kEmbeddingPiece).constant(pieces_block).warps(4)
           .run(cdiv(n, kEmbeddingPiece), cdiv(dim, pieces_block)))
    return false;
  Launch l(kEmbeddingSegments, g);
  l.ptr(sorted_idx).ptr(partial).ptr(gw);
  bad.defined() ? l.ptr(bad) : l.null(DType::Int64);
  // (a deferred second launch leaves the native kernels to redo both: the partials are only scratch)
  return l.i64(n).i32(dim).i64(gw.size(0)).constant(bad.defined()).constant(kEmbeddingPiece).constant(block)
      .warps(int(std::max<int64_t>(1, block / 128))).run(n, cdiv(dim, block));
}

bool optim_accepts(const Tensor& like) { return usable("optim", like.dtype(), 1, 1); }

bool adam_multi(const Tensor& table, const ChunkTable& t, const Tensor& like, const optim::AdamStep& s) {
  const int64_t decay = s.weight_decay == 0 ? 0 : s.decoupled ? 1 : 2;  // the kernel's DECAY
  return Launch(kAdamMulti, like).ptr(table).ptr(like).f32(1.0 - s.lr * s.weight_decay).f32(s.weight_decay)
      .f32(s.beta1).f32(1.0 - s.beta1).f32(s.beta2).f32(1.0 - s.beta2).f32(s.step_size).f32(s.bias_correction2_sqrt)
      .f32(s.eps).constant(decay).constant(s.amsgrad).constant(s.maximize).constant(t.aligned).constant(kOptimChunk)
      .constant(kOptimBlock).warps(4).run(t.n_rows);
}

bool clip_grad_norm(const Tensor& table, const ChunkTable& t, const Tensor& like, const Tensor& partial,
                    const Tensor& out, double max_norm) {
  VT_CHECK_VALUE(t.n_rows <= kMaxI32, "_fused_clip_grad_norm_: expected at most 2^31 - 1 chunks of ", kOptimChunk,
                 " elements, got ", t.n_rows);
  // The launches after the first are of kernels the first one's compile does not cover: each may defer
  // (false) and leave the step to the native kernels, which then recompute every stage from the start.
  return Launch(kSumsqMulti, like).ptr(table).ptr(like).ptr(partial).constant(t.aligned).constant(kOptimChunk)
             .constant(kOptimBlock).warps(4).run(t.n_rows) &&
         Launch(kClipCoef, like).ptr(partial).ptr(out).i32(t.n_rows).f32(max_norm).constant(kOptimBlock).warps(4)
             .run(1) &&
         Launch(kScaleMulti, like).ptr(table).ptr(like).ptr(out).constant(t.aligned).constant(kOptimChunk)
             .constant(kOptimBlock).warps(4).run(t.n_rows);
}

bool sgd_multi(const Tensor& table, const ChunkTable& t, const Tensor& like, const optim::SgdStep& s) {
  return Launch(kSgdMulti, like).ptr(table).ptr(like).f32(s.lr).f32(s.weight_decay).f32(s.momentum)
      .f32(1.0 - s.dampening).constant(s.momentum != 0).constant(s.first_step).constant(s.nesterov)
      .constant(s.maximize).constant(s.weight_decay != 0).constant(t.aligned).constant(kOptimChunk)
      .constant(kOptimBlock).warps(4).run(t.n_rows);
}

}  // namespace vt::suite
