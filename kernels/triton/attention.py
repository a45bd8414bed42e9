"""Fused attention (flash-attention style): the "attention" family of the kernel suite.

Note [Fused attention]
softmax(q k^T * scale) v is computed one block of query rows at a time, streaming over key blocks
with an online softmax (a running row max and row sum, the accumulator rescaled when the max
grows), so the [T, T] score matrix never reaches memory. The forward also saves the per-row
log-sum-exp of the scaled scores (fp32, natural log), which lets the backward rebuild every
probability as exp(s * scale - lse) without a second pass over the row. The backward is free of
atomics and so deterministic: attn_bwd_pre computes delta = rowsum(dO * O); attn_bwd_dkdv owns one
block of keys and walks the query blocks (dV += P^T dO, dK += dS^T Q); attn_bwd_dq owns one block of
queries and walks the key blocks (dQ += dS K), where dS = P * (dO V^T - delta). The scores are
recomputed in both backward kernels: that costs one more q k^T per block pair, but no [T, T]
buffer and no atomics.
- Layout: q, k, v are [B, H, T, D] with any strides for B, H and T (in elements, as i64) and a
  contiguous last dim, so a [B, T, H, D] tensor transposed to [B, H, T, D] needs no copy. o, dq, dk,
  dv are contiguous [B, H, T, D] in the input dtype; lse and delta are contiguous fp32 [B, H, T].
- Causal masking is top-left aligned (query i sees keys j <= i), as torch's is_causal with equal
  lengths. Rows and columns past T are masked by loads and by the score mask.
- Precision: every product accumulates in fp32. fp32 inputs use tl.dot(..., input_precision="ieee"),
  full fp32 as torch's fp32 SDPA (no tf32): results match torch's math path to about 1e-5 relative;
  PRECISION 2 (kernels.fp32_matmul=tf32x3) runs them as three TF32 tensor-core products instead
  (Note [Float32 products] in csrc/ops/suite/families.h), about as accurate. 16-bit inputs pass 0.
  bf16 / fp16 inputs use the tensor cores; P and dS are rounded to the input dtype before their
  products, as flash attention does (tolerance: the input dtype's, about 1e-2 for bf16).
- The exponentials are exp2 of scores pre-multiplied by scale * log2(e).
- Masks only where needed: each kernel walks its unmasked blocks (keys before the diagonal when
  causal, every block before the tail past T) with plain loads and no score mask, and then the
  diagonal or tail blocks with both. That needs BLOCK_M % BLOCK_N == 0 for attn_fwd and
  attn_bwd_dq and BLOCK_N % BLOCK_M == 0 for attn_bwd_dkdv, so the diagonal starts on a block edge.

Launch contracts (C++ declares them in csrc/ops/cuda/attention_suite.cpp; the config_* functions
are pure and mirrored there exactly):

attn_fwd(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr: pointers (q, k, v, o: the input dtype; lse: fp32),
         stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt, stride_vb, stride_vh,
         stride_vt: i64, H: i32, T: i32, scale: fp32;
         HEAD_DIM, BLOCK_M, BLOCK_N: constexpr int, CAUSAL: constexpr bool, PRECISION: constexpr int)
    grid (cdiv(T, BLOCK_M), B * H, 1); (BLOCK_M, BLOCK_N, warps, stages) = config_attn_fwd(T, D, bytes, causal)

attn_bwd_pre(o_ptr, do_ptr, delta_ptr: pointers (delta: fp32),
             stride_ob, stride_oh, stride_ot, stride_dob, stride_doh, stride_dot: i64, H: i32, T: i32;
             HEAD_DIM, BLOCK_M: constexpr int)
    grid (cdiv(T, BLOCK_M), B * H, 1); (BLOCK_M, warps, stages) = config_attn_bwd_pre(T, D, bytes, causal)

attn_bwd_dkdv(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dk_ptr, dv_ptr: pointers,
              stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt, stride_vb, stride_vh,
              stride_vt, stride_dob, stride_doh, stride_dot: i64, H: i32, T: i32, scale: fp32;
              HEAD_DIM, BLOCK_M, BLOCK_N: constexpr int, CAUSAL: constexpr bool, PRECISION: constexpr int)
    grid (cdiv(T, BLOCK_N), B * H, 1); (BLOCK_M, BLOCK_N, warps, stages) = config_attn_bwd_dkdv(T, D, bytes, causal)

attn_bwd_dq(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr: pointers, the same twelve
            strides: i64, H: i32, T: i32, scale: fp32;
            HEAD_DIM, BLOCK_M, BLOCK_N: constexpr int, CAUSAL: constexpr bool, PRECISION: constexpr int)
    grid (cdiv(T, BLOCK_M), B * H, 1); (BLOCK_M, BLOCK_N, warps, stages) = config_attn_bwd_dq(T, D, bytes, causal)

HEAD_DIM is D, one of 16, 32, 64, 128; `bytes` is the input dtype's size (4, or 2 for bf16 / fp16).
No kernel needs Triton's global scratch.
"""
import triton
import triton.language as tl

from ._dot import dot

HEAD_DIMS = (16, 32, 64, 128)


# ---- block choices: pure functions of the shape, mirrored by C++ ---------------------------------

def config_attn_fwd(T, D, dtype_bytes, causal):
    """(BLOCK_M, BLOCK_N, num_warps, num_stages), BLOCK_M a multiple of BLOCK_N. Chosen from the sweep
    of benchmarks/tune_attention.py on an H100 (Note [Attention blocks]). fp32 runs its products on the
    FMA units: at D <= 32 tall 128-row tiles with 16-key steps on 2 warps win from T = 128 up, a
    64 x 64 tile on 4 warps at T <= 64. 16-bit inputs: 64 x 64 on 4 warps (causal), 128 x 128 on 8
    warps without a mask once T fills the GPU."""
    if dtype_bytes == 4:
        if D > 32:
            return 32, 32, (8 if D == 128 else 4), 2
        return (64, 64, 4, 2) if T <= 64 else (128, 16, 2, 2)
    if T >= 1024 and not causal:
        return 128, 128, 8, 3
    return 64, 64, 4, 3


def config_attn_bwd_pre(T, D, dtype_bytes, causal):
    """(BLOCK_M, num_warps, num_stages)."""
    return 64, 4, 1


def config_attn_bwd_dkdv(T, D, dtype_bytes, causal):
    """(BLOCK_M, BLOCK_N, num_warps, num_stages), BLOCK_N a multiple of BLOCK_M: BLOCK_N keys stay
    resident with their two fp32 accumulators, BLOCK_M query rows stream (Note [Attention blocks])."""
    if dtype_bytes == 4:
        if D > 32:
            return (16 if D == 128 else 32), 32, 8, 2
        if T <= 64:
            return 64, 64, 4, 1
        return (32, 32, 4, 1) if causal else (16, 64, 2, 3)
    return 64, 64, 4, 2


def config_attn_bwd_dq(T, D, dtype_bytes, causal):
    """(BLOCK_M, BLOCK_N, num_warps, num_stages), BLOCK_M a multiple of BLOCK_N: BLOCK_M query rows
    stay resident, BLOCK_N keys stream (Note [Attention blocks])."""
    if dtype_bytes == 4:
        if D > 32:
            return 32, 32, (8 if D == 128 else 4), 2
        return (64, 64, 4, 1) if T <= 64 else (128, 16, 2, 2)
    return 128, 64, 8, 3


# Note [Attention blocks]
# The block choices come from benchmarks/tune_attention.py on one H100 80GB HBM3 (Triton 3.6,
# experiments/results/gpu/2026-12-06-h100-suite/tune_attention.txt), at the workloads' shapes
# (fp32, D = 32: seq_reverse B64 H4 T64 causal, minigpt B64 H8 T128 causal, vit B256 H8 T80) and
# VibeTensor's training shape (bf16 B32 H10 T2048 D128, causal and not). The old choices (32 x 32
# fp32 tiles, 32-row bf16 dK/dV blocks on 8 warps) were 1.3x to 2.9x slower per kernel there.
# fp32 at D > 32 was not swept and keeps the earlier blocks. The divisibility rules let the
# kernels run the blocks off the diagonal (causal) and before the tail (past T) without masks.


# Note [Causal block order]
# Under a causal mask the query block m walks m + 1 key blocks, so one (batch, head)'s blocks range from
# one to T / BLOCK_N units of work. The GPU starts programs in grid order (dimension 0 fastest), so
# attn_fwd and attn_bwd_dq map program 0 to the last query block: within each (batch, head) the longest
# blocks start first and the grid ends on short ones, instead of ending on a wave of the longest (the
# longest-first order of FlashAttention's tile schedulers). The (batch, head) stays in dimension 1 so
# that the programs running together share their K and V in L2. attn_bwd_dkdv needs no remapping: its
# key block n walks the queries from n on, so its longest blocks already come first. At VibeTensor's
# training shape (5120 forward programs on an H100) it measured the same as grid order (0.964 ms both,
# experiments/results/gpu/2026-12-07-h100-s34): the last wave is a small part of such a grid; the order
# matters where a grid is a few waves.


# ---- kernels ---------------------------------------------------------------------------------------

@triton.jit
def _dot(a, b, PRECISION: tl.constexpr):
    # Attention's float32 products are never TF32 (torch's fp32 math path uses none): IEEE, or TF32x3
    # under PRECISION 2 (kernels.fp32_matmul=tf32x3); 16-bit inputs use the tensor cores whatever
    # PRECISION says. See Note [Fused attention].
    if a.dtype == tl.float32:
        return dot(a, b, None, 2 if PRECISION == 2 else 1)
    return dot(a, b, None, 0)


@triton.jit
def _load_key_block(k_ptr, v_ptr, stride_kt, stride_vt, cols, T, HEAD_DIM: tl.constexpr, MASKED: tl.constexpr):
    # K and V rows `cols`, row-major; MASKED=False: every column is < T, so the loads need no mask.
    offs_d = tl.arange(0, HEAD_DIM)
    if MASKED:
        col_ok = cols < T
        k = tl.load(k_ptr + cols[:, None] * stride_kt + offs_d[None, :], mask=col_ok[:, None], other=0.0)
        v = tl.load(v_ptr + cols[:, None] * stride_vt + offs_d[None, :], mask=col_ok[:, None], other=0.0)
    else:
        k = tl.load(k_ptr + cols[:, None] * stride_kt + offs_d[None, :])
        v = tl.load(v_ptr + cols[:, None] * stride_vt + offs_d[None, :])
    return k, v


@triton.jit
def _key_mask(rows, cols, T, CAUSAL: tl.constexpr):
    # [rows, cols]: the key exists and (causal) the query row sees it.
    keep = (cols < T)[None, :]
    if CAUSAL:
        keep = keep & (cols[None, :] <= rows[:, None])
    return keep


@triton.jit
def _key_block_bounds(start_m, T, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    # (full_n, end_n) for a query block at start_m: key blocks [0, full_n) need no mask, [full_n, end_n)
    # do (the diagonal when causal, BLOCK_M being a multiple of BLOCK_N; else the tail past T).
    if CAUSAL:
        full_n = start_m
        end_n = tl.minimum(start_m + BLOCK_M, T)
    else:
        full_n = (T // BLOCK_N) * BLOCK_N
        end_n = T
    return full_n, end_n


@triton.jit
def _query_block_start(BLOCK_M: tl.constexpr, CAUSAL: tl.constexpr):
    # The first query row of this program's block: causal blocks of one (batch, head) run the last
    # (longest) block first, Note [Causal block order].
    pid = tl.program_id(0)
    if CAUSAL:
        pid = tl.num_programs(0) - 1 - pid
    return pid * BLOCK_M


@triton.jit
def _fwd_step(acc, l_i, m_i, q, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
              HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr,
              PRECISION: tl.constexpr):
    # One key block of the online softmax. MASKED=False: every key of the block is < T and, when
    # CAUSAL, before every row of the query block, so no bound or causal mask is computed.
    cols = start_n + tl.arange(0, BLOCK_N)
    k, v = _load_key_block(k_ptr, v_ptr, stride_kt, stride_vt, cols, T, HEAD_DIM, MASKED)
    s = _dot(q, tl.trans(k), PRECISION) * qk_scale
    if MASKED:
        s = tl.where(_key_mask(rows, cols, T, CAUSAL), s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    p = tl.math.exp2(s - m_new[:, None])
    alpha = tl.math.exp2(m_i - m_new)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None] + _dot(p.to(v.dtype), v, PRECISION)
    return acc, l_i, m_new


@triton.jit
def attn_fwd(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr,
             stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt, stride_vb, stride_vh, stride_vt,
             H, T, scale,
             HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
             PRECISION: tl.constexpr):
    start_m = _query_block_start(BLOCK_M, CAUSAL)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    q_ptr += b * stride_qb + h * stride_qh
    k_ptr += b * stride_kb + h * stride_kh
    v_ptr += b * stride_vb + h * stride_vh
    rows = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows < T
    q = tl.load(q_ptr + rows[:, None] * stride_qt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
    qk_scale = scale * 1.4426950408889634  # log2(e): the softmax runs on exp2
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    # The first block always holds key 0, which every row sees: m_i is finite after it.
    full_n, end_n = _key_block_bounds(start_m, T, BLOCK_M, BLOCK_N, CAUSAL)  # Note [Fused attention]
    for start_n in range(0, full_n, BLOCK_N):
        acc, l_i, m_i = _fwd_step(acc, l_i, m_i, q, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
                                  HEAD_DIM, BLOCK_N, CAUSAL, False, PRECISION)
    for start_n in range(full_n, end_n, BLOCK_N):
        acc, l_i, m_i = _fwd_step(acc, l_i, m_i, q, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
                                  HEAD_DIM, BLOCK_N, CAUSAL, True, PRECISION)
    out_base = bh.to(tl.int64) * T
    acc = acc / l_i[:, None]
    tl.store(o_ptr + (out_base + rows[:, None]) * HEAD_DIM + offs_d[None, :], acc.to(o_ptr.dtype.element_ty),
             mask=row_ok[:, None])
    tl.store(lse_ptr + out_base + rows, (m_i + tl.math.log2(l_i)) / 1.4426950408889634, mask=row_ok)


@triton.jit
def attn_bwd_pre(o_ptr, do_ptr, delta_ptr,
                 stride_ob, stride_oh, stride_ot, stride_dob, stride_doh, stride_dot,
                 H, T,
                 HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr):
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows < T
    o = tl.load(o_ptr + b * stride_ob + h * stride_oh + rows[:, None] * stride_ot + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    do = tl.load(do_ptr + b * stride_dob + h * stride_doh + rows[:, None] * stride_dot + offs_d[None, :],
                 mask=row_ok[:, None], other=0.0)
    delta = tl.sum(o.to(tl.float32) * do.to(tl.float32), 1)
    tl.store(delta_ptr + bh.to(tl.int64) * T + rows, delta, mask=row_ok)


@triton.jit
def _dkdv_step(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, stride_qt, stride_dot, row_base, cols, start_m, T,
               qk_scale, HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr,
               PRECISION: tl.constexpr):
    # One query block against the resident key block. MASKED=False: every row is < T and, when
    # CAUSAL, after every key of the block.
    rows = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    if MASKED:
        row_ok = rows < T
        q = tl.load(q_ptr + rows[:, None] * stride_qt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        do = tl.load(do_ptr + rows[:, None] * stride_dot + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        # lse = +inf past T makes those rows' probabilities 0.
        lse = tl.load(lse_ptr + row_base + rows, mask=row_ok, other=float("inf"))
        delta = tl.load(delta_ptr + row_base + rows, mask=row_ok, other=0.0)
    else:
        q = tl.load(q_ptr + rows[:, None] * stride_qt + offs_d[None, :])
        do = tl.load(do_ptr + rows[:, None] * stride_dot + offs_d[None, :])
        lse = tl.load(lse_ptr + row_base + rows)
        delta = tl.load(delta_ptr + row_base + rows)
    # Transposed scores [BLOCK_N, BLOCK_M], so dV and dK are plain products with the rows.
    pt = tl.math.exp2(_dot(k, tl.trans(q), PRECISION) * qk_scale - lse[None, :] * 1.4426950408889634)
    if MASKED and CAUSAL:
        pt = tl.where(cols[:, None] <= rows[None, :], pt, 0.0)
    dv += _dot(pt.to(do.dtype), do, PRECISION)
    dpt = _dot(v, tl.trans(do), PRECISION)
    dst = pt * (dpt - delta[None, :])
    dk += _dot(dst.to(q.dtype), q, PRECISION)
    return dk, dv


@triton.jit
def attn_bwd_dkdv(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dk_ptr, dv_ptr,
                  stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt, stride_vb, stride_vh, stride_vt,
                  stride_dob, stride_doh, stride_dot,
                  H, T, scale,
                  HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
             PRECISION: tl.constexpr):
    start_n = tl.program_id(0) * BLOCK_N
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    q_ptr += b * stride_qb + h * stride_qh
    do_ptr += b * stride_dob + h * stride_doh
    row_base = bh.to(tl.int64) * T
    cols = start_n + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    col_ok = cols < T
    k = tl.load(k_ptr + b * stride_kb + h * stride_kh + cols[:, None] * stride_kt + offs_d[None, :],
                mask=col_ok[:, None], other=0.0)
    v = tl.load(v_ptr + b * stride_vb + h * stride_vh + cols[:, None] * stride_vt + offs_d[None, :],
                mask=col_ok[:, None], other=0.0)
    qk_scale = scale * 1.4426950408889634
    dk = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    # Causal: earlier queries see none of these keys; the queries of the diagonal (BLOCK_N is a
    # multiple of BLOCK_M) are masked, later ones not. Then the unmasked blocks and the tail past T.
    if CAUSAL:
        lo = start_n
        diag_end = tl.minimum(start_n + BLOCK_N, T)
        mid = start_n + BLOCK_N
    else:
        lo = 0
        diag_end = 0
        mid = 0
    for start_m in range(lo, diag_end, BLOCK_M):
        dk, dv = _dkdv_step(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, stride_qt, stride_dot, row_base, cols,
                            start_m, T, qk_scale, HEAD_DIM, BLOCK_M, CAUSAL, True, PRECISION)
    full_m = (T // BLOCK_M) * BLOCK_M
    for start_m in range(mid, full_m, BLOCK_M):
        dk, dv = _dkdv_step(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, stride_qt, stride_dot, row_base, cols,
                            start_m, T, qk_scale, HEAD_DIM, BLOCK_M, CAUSAL, False, PRECISION)
    for start_m in range(tl.maximum(mid, full_m), T, BLOCK_M):
        dk, dv = _dkdv_step(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, stride_qt, stride_dot, row_base, cols,
                            start_m, T, qk_scale, HEAD_DIM, BLOCK_M, CAUSAL, True, PRECISION)
    out = (row_base + cols[:, None]) * HEAD_DIM + offs_d[None, :]
    tl.store(dk_ptr + out, (dk * scale).to(dk_ptr.dtype.element_ty), mask=col_ok[:, None])
    tl.store(dv_ptr + out, dv.to(dv_ptr.dtype.element_ty), mask=col_ok[:, None])


@triton.jit
def _dq_step(dq, q, do, lse, delta, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
             HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr,
              PRECISION: tl.constexpr):
    # One key block against the resident query block; MASKED as in _fwd_step.
    cols = start_n + tl.arange(0, BLOCK_N)
    k, v = _load_key_block(k_ptr, v_ptr, stride_kt, stride_vt, cols, T, HEAD_DIM, MASKED)
    p = tl.math.exp2(_dot(q, tl.trans(k), PRECISION) * qk_scale - lse[:, None] * 1.4426950408889634)
    if MASKED:
        p = tl.where(_key_mask(rows, cols, T, CAUSAL), p, 0.0)
    ds = p * (_dot(do, tl.trans(v), PRECISION) - delta[:, None])
    dq += _dot(ds.to(k.dtype), k, PRECISION)
    return dq


@triton.jit
def attn_bwd_dq(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr,
                stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt, stride_vb, stride_vh, stride_vt,
                stride_dob, stride_doh, stride_dot,
                H, T, scale,
                HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
             PRECISION: tl.constexpr):
    start_m = _query_block_start(BLOCK_M, CAUSAL)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    k_ptr += b * stride_kb + h * stride_kh
    v_ptr += b * stride_vb + h * stride_vh
    row_base = bh.to(tl.int64) * T
    rows = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows < T
    q = tl.load(q_ptr + b * stride_qb + h * stride_qh + rows[:, None] * stride_qt + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    do = tl.load(do_ptr + b * stride_dob + h * stride_doh + rows[:, None] * stride_dot + offs_d[None, :],
                 mask=row_ok[:, None], other=0.0)
    lse = tl.load(lse_ptr + row_base + rows, mask=row_ok, other=0.0)
    delta = tl.load(delta_ptr + row_base + rows, mask=row_ok, other=0.0)
    qk_scale = scale * 1.4426950408889634
    dq = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    full_n, end_n = _key_block_bounds(start_m, T, BLOCK_M, BLOCK_N, CAUSAL)
    for start_n in range(0, full_n, BLOCK_N):
        dq = _dq_step(dq, q, do, lse, delta, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
                      HEAD_DIM, BLOCK_N, CAUSAL, False, PRECISION)
    for start_n in range(full_n, end_n, BLOCK_N):
        dq = _dq_step(dq, q, do, lse, delta, k_ptr, v_ptr, stride_kt, stride_vt, rows, start_n, T, qk_scale,
                      HEAD_DIM, BLOCK_N, CAUSAL, True, PRECISION)
    tl.store(dq_ptr + (row_base + rows[:, None]) * HEAD_DIM + offs_d[None, :],
             (dq * scale).to(dq_ptr.dtype.element_ty), mask=row_ok[:, None])


KERNELS = {"attn_fwd": attn_fwd, "attn_bwd_pre": attn_bwd_pre, "attn_bwd_dkdv": attn_bwd_dkdv,
           "attn_bwd_dq": attn_bwd_dq}
CONFIGS = {"attn_fwd": config_attn_fwd, "attn_bwd_pre": config_attn_bwd_pre, "attn_bwd_dkdv": config_attn_bwd_dkdv,
           "attn_bwd_dq": config_attn_bwd_dq}
