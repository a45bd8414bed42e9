// The "conv" family: 2-d convolution as implicit GEMMs (kernels/triton/conv.py, Note [Implicit GEMM
// convolution] there). Parameter names and orders are the Triton kernels'; the tiling mirrors
// config_conv2d and wgrad_split_len there.
#include <algorithm>

#include "ops/suite/families.h"
#include "ops/suite/launch.h"
#include "ops/suite/row_config.h"
#if VT_CUDA
#include "cuda/matmul_settings.h"
#endif

namespace vt::suite {
namespace {

using A = Arg;

#define VT_CONV_SIZES                                                                                               \
  {"n_batch", A::i32}, {"n_chan", A::i32}, {"height", A::i32}, {"width", A::i32}, {"n_out", A::i32},               \
      {"out_h", A::i32}, {"out_w", A::i32}, {"step_h", A::i32}, {"step_w", A::i32}, {"pad_h", A::i32},             \
      {"pad_w", A::i32}, {"dil_h", A::i32}, {"dil_w", A::i32}
const KernelDecl kConvFwd{"conv", "conv2d_fwd",
                          {{"x_ptr", A::ptr}, {"w_ptr", A::ptr}, {"b_ptr", A::ptr}, {"y_ptr", A::ptr}, VT_CONV_SIZES},
                          {"HAS_BIAS", "IEEE", "KH", "KW", "BLOCK_M", "BLOCK_N", "BLOCK_K"}};
const KernelDecl kConvDgrad{"conv", "conv2d_dgrad", {{"dy_ptr", A::ptr}, {"w_ptr", A::ptr}, {"dx_ptr", A::ptr}, VT_CONV_SIZES},
                            {"IEEE", "KH", "KW", "BLOCK_M", "BLOCK_N", "BLOCK_K"}};
const KernelDecl kConvWgrad{"conv", "conv2d_wgrad",
                            {{"dy_ptr", A::ptr}, {"x_ptr", A::ptr}, {"part_ptr", A::ptr}, VT_CONV_SIZES,
                             {"split_len", A::i32}},
                            {"IEEE", "KH", "KW", "BLOCK_M", "BLOCK_N", "BLOCK_K"}};
#undef VT_CONV_SIZES

constexpr int64_t kMaxBlock = 128;
constexpr int64_t kMaxI32 = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxGridY = 65535;
// Kernel sizes compiled as constexprs: each (KH, KW) is a specialization, so larger ones stay composed.
constexpr int64_t kMaxKernel = 11;

struct Tiles {
  int64_t block_m, block_n, block_k;
  int warps;
};

// config_conv2d(rows, cols, dtype_bytes, n_sms)
Tiles tiles(int64_t rows, int64_t cols, const Tensor& on) {
  Tiles t{rows > 64 ? kMaxBlock : 64, std::min(kMaxBlock, std::max<int64_t>(16, next_pow2(cols))),
          on.dtype() == DType::Float32 ? 32 : 64, 4};
  const int64_t n_sms = on.device().is_cuda() ? sm_count(on.device().index) : 1;
  if (cdiv(rows, t.block_m) * cdiv(cols, t.block_n) < n_sms) {  // fewer tiles than SMs: smaller ones
    t.block_m = 64;
    t.block_n = std::min<int64_t>(t.block_n, 64);
  }
  t.warps = t.block_m * t.block_n >= kMaxBlock * kMaxBlock ? 8 : 4;
  return t;
}

// IEEE unless TF32 is allowed for float32 products (the convolution scopes vt.backends.cudnn.allow_tf32
// over the matmul setting, Note [TF32 matmul]); 2-byte operands pass 0.
int64_t ieee(DType d) {
#if VT_CUDA
  return d == DType::Float32 && !cuda::allow_tf32_matmul() ? 1 : 0;
#else
  return d == DType::Float32 ? 1 : 0;
#endif
}

Launch& sizes(Launch& l, const ConvGeometry& g) {
  return l.i32(g.n).i32(g.c).i32(g.h).i32(g.w).i32(g.oc).i32(g.oh).i32(g.ow).i32(g.sh).i32(g.sw).i32(g.ph).i32(g.pw)
      .i32(g.dh).i32(g.dw);
}

}  // namespace

bool conv2d_accepts(const Tensor& x, const Tensor& weight, const ConvGeometry& g) {
  if (!selected("conv")) return false;
  const DType d = x.dtype();
  if (d != DType::Float32 && d != DType::BFloat16 && d != DType::Float16) {
    fallback("conv", "a dtype other than float32, bfloat16, float16");
    return false;
  }
  if (weight.dtype() != d) {
    fallback("conv", "input and weight of different dtypes");
    return false;
  }
  if (g.kh > kMaxKernel || g.kw > kMaxKernel) {
    fallback("conv", "a kernel larger than 11 x 11");
    return false;
  }
  // Row indices (n * positions) and per-sample offsets are int32 in the kernels' index math.
  if (g.n * std::max(g.h * g.w, g.oh * g.ow) > kMaxI32 || g.c * g.h * g.w > kMaxI32 || g.oc * g.oh * g.ow > kMaxI32) {
    fallback("conv", "more than 2^31 - 1 positions or elements per sample");
    return false;
  }
  if (cdiv(g.oc, kMaxBlock) > kMaxGridY || cdiv(g.c, 16) * g.kh * g.kw > kMaxGridY) {
    fallback("conv", "more channels than the grid's second dimension holds");
    return false;
  }
  return true;
}

bool conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  Tiles t = tiles(g.n * g.oh * g.ow, g.oc, x);
  Launch l(kConvFwd, x);
  l.ptr(x).ptr(weight);
  bias.defined() ? l.ptr(bias) : l.null(x.dtype());
  l.ptr(y);
  return sizes(l, g).constant(bias.defined()).constant(ieee(x.dtype())).constant(g.kh).constant(g.kw)
      .constant(t.block_m).constant(t.block_n).constant(t.block_k).warps(t.warps)
      .run(cdiv(g.n * g.oh * g.ow, t.block_m), cdiv(g.oc, t.block_n));
}

bool conv2d_input_grad(const Tensor& dy, const Tensor& weight, const Tensor& dx, const ConvGeometry& g) {
  Tiles t = tiles(g.n * g.h * g.w, g.c, dy);
  Launch l(kConvDgrad, dy);
  l.ptr(dy).ptr(weight).ptr(dx);
  return sizes(l, g).constant(ieee(dy.dtype())).constant(g.kh).constant(g.kw).constant(t.block_m).constant(t.block_n)
      .constant(t.block_k).warps(t.warps).run(cdiv(g.n * g.h * g.w, t.block_m), cdiv(g.c, t.block_n));
}

// wgrad_split_len(positions, tiles, n_sms, block_k)
int64_t conv2d_wgrad_split_len(const Tensor& dy, const ConvGeometry& g) {
  Tiles t = tiles(g.oc, g.c, dy);
  const int64_t positions = g.n * g.oh * g.ow;
  const int64_t n_tiles = cdiv(g.oc, t.block_m) * cdiv(g.c, t.block_n) * g.kh * g.kw;
  const int64_t n_sms = dy.device().is_cuda() ? sm_count(dy.device().index) : 1;  // as tiles() reads it
  const int64_t splits = std::max<int64_t>(1, std::min(cdiv(2 * n_sms, n_tiles), cdiv(positions, 4 * t.block_k)));
  return cdiv(cdiv(positions, splits), t.block_k) * t.block_k;
}

bool conv2d_weight_grad(const Tensor& dy, const Tensor& x, const Tensor& partial, int64_t split_len,
                        const ConvGeometry& g) {
  Tiles t = tiles(g.oc, g.c, dy);
  Launch l(kConvWgrad, dy);
  l.ptr(dy).ptr(x).ptr(partial);
  return sizes(l, g).i32(split_len).constant(ieee(dy.dtype())).constant(g.kh).constant(g.kw).constant(t.block_m)
      .constant(t.block_n).constant(t.block_k).warps(t.warps)
      .run(cdiv(g.oc, t.block_m), cdiv(g.c, t.block_n) * g.kh * g.kw, cdiv(g.n * g.oh * g.ow, split_len));
}

}  // namespace vt::suite
