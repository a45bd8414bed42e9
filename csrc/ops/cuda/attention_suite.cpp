// CUDA kernels of vt::_fused_attention and vt::_fused_attention_backward: the kernel suite's Triton
// kernels (kernels/triton/attention.py, Note [Fused attention]) launched from C++ (Note [Kernel
// suite launch path] in ops/suite/launch.h). When the "attention" family is not selected, or a launch
// had to defer its compile, the ops run the same math on ops (fp32 scores), so they always answer.
// Plain C++ (no device code): compiled into every build, the kernels only where VT_CUDA is on.
#if VT_CUDA
#include <cmath>

#include "cuda/device.h"
#include "ops/attention_args.h"
#include "ops/ops.h"
#include "ops/suite/attention_blocks.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

constexpr suite::Arg P = suite::Arg::ptr, I32 = suite::Arg::i32, I64 = suite::Arg::i64, F32 = suite::Arg::f32;

// The declarations name the Triton kernels' parameters exactly, in their order.
const suite::KernelDecl kFwd{
    "attention", "attn_fwd",
    {{"q_ptr", P}, {"k_ptr", P}, {"v_ptr", P}, {"o_ptr", P}, {"lse_ptr", P},
     {"stride_qb", I64}, {"stride_qh", I64}, {"stride_qt", I64}, {"stride_kb", I64}, {"stride_kh", I64},
     {"stride_kt", I64}, {"stride_vb", I64}, {"stride_vh", I64}, {"stride_vt", I64},
     {"H", I32}, {"T", I32}, {"scale", F32}},
    {"HEAD_DIM", "BLOCK_M", "BLOCK_N", "CAUSAL", "PRECISION"}};

const suite::KernelDecl kBwdPre{
    "attention", "attn_bwd_pre",
    {{"o_ptr", P}, {"do_ptr", P}, {"delta_ptr", P},
     {"stride_ob", I64}, {"stride_oh", I64}, {"stride_ot", I64}, {"stride_dob", I64}, {"stride_doh", I64},
     {"stride_dot", I64}, {"H", I32}, {"T", I32}},
    {"HEAD_DIM", "BLOCK_M"}};

// attn_bwd_dkdv and attn_bwd_dq share everything after their pointers.
#define VT_ATTN_BWD_SCALARS                                                                                        \
  {"stride_qb", I64}, {"stride_qh", I64}, {"stride_qt", I64}, {"stride_kb", I64}, {"stride_kh", I64},            \
      {"stride_kt", I64}, {"stride_vb", I64}, {"stride_vh", I64}, {"stride_vt", I64}, {"stride_dob", I64},       \
      {"stride_doh", I64}, {"stride_dot", I64}, {"H", I32}, {"T", I32}, {"scale", F32}

const suite::KernelDecl kBwdDkDv{
    "attention", "attn_bwd_dkdv",
    {{"q_ptr", P}, {"k_ptr", P}, {"v_ptr", P}, {"do_ptr", P}, {"lse_ptr", P}, {"delta_ptr", P}, {"dk_ptr", P},
     {"dv_ptr", P}, VT_ATTN_BWD_SCALARS},
    {"HEAD_DIM", "BLOCK_M", "BLOCK_N", "CAUSAL", "PRECISION"}};

const suite::KernelDecl kBwdDq{
    "attention", "attn_bwd_dq",
    {{"q_ptr", P}, {"k_ptr", P}, {"v_ptr", P}, {"do_ptr", P}, {"lse_ptr", P}, {"delta_ptr", P}, {"dq_ptr", P},
     VT_ATTN_BWD_SCALARS},
    {"HEAD_DIM", "BLOCK_M", "BLOCK_N", "CAUSAL", "PRECISION"}};
#undef VT_ATTN_BWD_SCALARS

using Blocks = suite::AttentionBlocks;  // Note [Attention blocks] (kernels/triton/attention.py)

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

suite::Launch& strides_bht(suite::Launch& l, const Tensor& t) { return l.i64(t.stride(0)).i64(t.stride(1)).i64(t.stride(2)); }

void check_qkv(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  std::string why = fused_attention_unsupported(q, k, v);
  VT_CHECK_VALUE(why.empty(), op, ": ", why);
}

// A tensor of query's shape, dtype and device with a contiguous last dim (the kernels' layout).
Tensor like_query(const char* op, const char* name, const Tensor& t, const Tensor& q) {
  VT_CHECK_VALUE(DimVector(t.sizes()) == DimVector(q.sizes()) && t.dtype() == q.dtype() && t.device() == q.device(), op,
                 ": expected ", name, " of query's shape ", shape_str(q.sizes()), ", dtype ", q.dtype(), " and device ",
                 q.device(), ", got ", shape_str(t.sizes()), ", ", t.dtype(), ", ", t.device());
  return t.stride(3) == 1 ? t : ops::contiguous(t);
}

// ---- the math path: the same computation on ops, with fp32 scores ---------------------------------

Tensor f32(const Tensor& t) { return t.dtype() == DType::Float32 ? t : ops::to_dtype(t, DType::Float32); }

// scale * q k^T in fp32, with -inf where causal masking hides a key.
Tensor scaled_scores(const Tensor& q, const Tensor& k, bool causal, double scale) {
  Tensor s = ops::mul(ops::matmul(f32(q), ops::transpose(f32(k), -2, -1)), ops::wrap_scalar(Scalar(scale)));
  if (!causal) return s;
  int64_t T = q.size(2);
  Tensor pos = ops::arange(Scalar(int64_t(0)), Scalar(T), Scalar(int64_t(1)), DType::Int64, q.device());
  return ops::masked_fill(s, ops::gt(ops::view(pos, {1, T}), ops::view(pos, {T, 1})), Scalar(-INFINITY));
}

std::tuple<Tensor, Tensor> math_forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, double scale) {
  Tensor s = scaled_scores(q, k, causal, scale);
  Tensor m = ops::amax(s, IntList{-1}, true);  // finite: every row sees key 0
  Tensor lse = ops::add(m, ops::log(ops::sum(ops::exp(ops::sub(s, m, Scalar(int64_t(1)))), IntList{-1}, true, std::nullopt)),
                        Scalar(int64_t(1)));
  Tensor p = ops::exp(ops::sub(s, lse, Scalar(int64_t(1))));
  Tensor out = ops::to_dtype(ops::matmul(p, f32(v)), q.dtype());
  return {ops::contiguous(out), ops::contiguous(ops::squeeze(lse, IntList{-1}))};
}

std::tuple<Tensor, Tensor, Tensor> math_backward(const Tensor& go, const Tensor& q, const Tensor& k, const Tensor& v,
                                                 const Tensor& out, const Tensor& lse, bool causal, double scale) {
  Scalar one(int64_t(1));
  Tensor p = ops::exp(ops::sub(scaled_scores(q, k, causal, scale), ops::unsqueeze(lse, -1), one));
  Tensor g = f32(go);
  Tensor dv = ops::matmul(ops::transpose(p, -2, -1), g);
  Tensor delta = ops::sum(ops::mul(g, f32(out)), IntList{-1}, true, std::nullopt);
  Tensor ds = ops::mul(p, ops::sub(ops::matmul(g, ops::transpose(f32(v), -2, -1)), delta, one));
  Tensor sc = ops::wrap_scalar(Scalar(scale));
  Tensor dq = ops::mul(ops::matmul(ds, f32(k)), sc);
  Tensor dk = ops::mul(ops::matmul(ops::transpose(ds, -2, -1), f32(q)), sc);
  auto back = [&](const Tensor& t) { return ops::contiguous(ops::to_dtype(t, q.dtype())); };
  return {back(dq), back(dk), back(dv)};
}

// ---- the kernels ------------------------------------------------------------------------------------

std::tuple<Tensor, Tensor> fused_attention_cuda(const Tensor& q, const Tensor& k, const Tensor& v, bool is_causal,
                                                double scale) {
  check_qkv("_fused_attention", q, k, v);
  int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
  cuda::DeviceGuard guard(q.device().index);
  Tensor out = empty_tensor({B, H, T, D}, q.dtype(), q.device());
  Tensor lse = empty_tensor({B, H, T}, DType::Float32, q.device());
  if (out.numel() == 0) return {out, lse};
  if (suite::selected("attention")) {
    Blocks c = suite::attn_fwd_blocks(T, D, int(itemsize(q.dtype())), is_causal);
    suite::Launch l(kFwd, q);
    l.ptr(q).ptr(k).ptr(v).ptr(out).ptr(lse);
    strides_bht(l, q);
    strides_bht(l, k);
    strides_bht(l, v);
    l.i32(H).i32(T).f32(scale).constant(D).constant(c.m).constant(c.n).constant(is_causal)
        .constant(suite::product_precision(q.dtype())).warps(c.warps).stages(c.stages);
    if (l.run(cdiv(T, c.m), B * H)) return {out, lse};
  }
  return math_forward(q, k, v, is_causal, scale);
}

std::tuple<Tensor, Tensor, Tensor> fused_attention_backward_cuda(const Tensor& grad_out, const Tensor& q, const Tensor& k,
                                                                 const Tensor& v, const Tensor& out_in,
                                                                 const Tensor& logsumexp, bool is_causal, double scale) {
  const char* op = "_fused_attention_backward";
  check_qkv(op, q, k, v);
  Tensor go = like_query(op, "grad_out", grad_out, q), out = like_query(op, "out", out_in, q);
  int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
  VT_CHECK_VALUE(DimVector(logsumexp.sizes()) == DimVector({B, H, T}) && logsumexp.dtype() == DType::Float32 &&
                     logsumexp.device() == q.device(),
                 op, ": expected a float32 logsumexp of shape ", shape_str(DimVector({B, H, T})), " on ", q.device(),
                 " (the second output of _fused_attention), got ", shape_str(logsumexp.sizes()), ", ", logsumexp.dtype(),
                 ", ", logsumexp.device());
  Tensor lse = ops::contiguous(logsumexp);
  cuda::DeviceGuard guard(q.device().index);
  Tensor dq = empty_tensor({B, H, T, D}, q.dtype(), q.device());
  Tensor dk = empty_tensor({B, H, T, D}, q.dtype(), q.device());
  Tensor dv = empty_tensor({B, H, T, D}, q.dtype(), q.device());
  if (dq.numel() == 0) return {dq, dk, dv};
  if (suite::selected("attention")) {
    int bytes = int(itemsize(q.dtype()));
    Tensor delta = empty_tensor({B, H, T}, DType::Float32, q.device());
    const int64_t precision = suite::product_precision(q.dtype());
    Blocks pre = suite::attn_bwd_pre_blocks(), kv = suite::attn_bwd_dkdv_blocks(T, D, bytes, is_causal),
           qb = suite::attn_bwd_dq_blocks(T, D, bytes);
    suite::Launch lp(kBwdPre, q);
    lp.ptr(out).ptr(go).ptr(delta);
    strides_bht(lp, out);
    strides_bht(lp, go);
    lp.i32(H).i32(T).constant(D).constant(pre.m).warps(pre.warps).stages(pre.stages);
    auto common = [&](suite::Launch& l, const Blocks& c) {
      for (const Tensor* t : {&q, &k, &v, static_cast<const Tensor*>(&go)}) strides_bht(l, *t);
      l.i32(H).i32(T).f32(scale).constant(D).constant(c.m).constant(c.n).constant(is_causal)
          .constant(precision).warps(c.warps).stages(c.stages);
    };
    suite::Launch lkv(kBwdDkDv, q);
    lkv.ptr(q).ptr(k).ptr(v).ptr(go).ptr(lse).ptr(delta).ptr(dk).ptr(dv);
    common(lkv, kv);
    suite::Launch lq(kBwdDq, q);
    lq.ptr(q).ptr(k).ptr(v).ptr(go).ptr(lse).ptr(delta).ptr(dq);
    common(lq, qb);
    // A deferred compile of any of the three runs the math path (what already ran is discarded).
    if (lp.run(cdiv(T, pre.m), B * H) && lkv.run(cdiv(T, kv.n), B * H) && lq.run(cdiv(T, qb.m), B * H))
      return {dq, dk, dv};
  }
  return math_backward(go, q, k, v, out, lse, is_causal, scale);
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_attention", CUDA, fused_attention_cuda);
VT_REGISTER_KERNEL("vt::_fused_attention_backward", CUDA, fused_attention_backward_cuda);

}  // namespace vt::cuda_kernels
#endif  // VT_CUDA
