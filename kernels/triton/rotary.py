"""Rotary position embedding (RoPE, half-split form) of a [n_batch, n_heads, n_pos, 2 * HALF] tensor:
y[..., :HALF] = x1 * cos - x2 * sin and y[..., HALF:] = x1 * sin + x2 * cos, with x1 = x[..., :HALF],
x2 = x[..., HALF:] and cos, sin of shape [n_pos, HALF]: what a GPT's attention applies to its queries and
keys (torch composes it from slices, four products, a sum, a difference and a cat). INVERSE rotates by
the opposite angle (sin negated), which is the backward: dx = rotary(dy, cos, sin, inverse).

Launch contract (``*T`` is a pointer whose pointee dtype is x's, fp32/bf16/fp16; y may have another
float dtype (the promoted result of x and cos); cos and sin share a float dtype; strides are in
elements; x's last dim is contiguous; y, cos and sin are contiguous):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers and *_stride;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

rotary_fwd:
    params:     x *T, cos *T, sin *T, y *T, xb_stride i64, xh_stride i64, xt_stride i64, n_heads i32,
                n_pos i32
    constexprs: INVERSE, HALF, BLOCK_H, BLOCK_T
    grid:       (cdiv(n_pos, BLOCK_T), n_batch * n_heads, cdiv(HALF, BLOCK_H))
    config:     config_rotary_fwd(n_cols) -> {HALF, BLOCK_H, BLOCK_T, num_warps}: for a last dim of
                n_cols = 2 * HALF, BLOCK_H = min(max(16, next_pow2(HALF)), 128), BLOCK_T = 2048 // (2 *
                BLOCK_H) (at least 8), num_warps = 4
"""
import triton
import triton.language as tl

MAX_BLOCK_H = 128
TILE_ELEMS = 2048


@triton.jit
def _rotary_fwd(x_ptr, cos_ptr, sin_ptr, y_ptr, xb_stride, xh_stride, xt_stride, n_heads, n_pos,
                INVERSE: tl.constexpr, HALF: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_T: tl.constexpr):
    bh = tl.program_id(1)
    b = bh // n_heads
    h = bh - b * n_heads
    t = tl.program_id(0) * BLOCK_T + tl.arange(0, BLOCK_T)
    j = tl.program_id(2) * BLOCK_H + tl.arange(0, BLOCK_H)
    mask = (t < n_pos)[:, None] & (j < HALF)[None, :]
    x1_ptrs = x_ptr + b.to(tl.int64) * xb_stride + h.to(tl.int64) * xh_stride + t.to(tl.int64)[:, None] * xt_stride \
        + j[None, :]
    x1 = tl.load(x1_ptrs, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(x1_ptrs + HALF, mask=mask, other=0.0).to(tl.float32)
    angle = t.to(tl.int64)[:, None] * HALF + j[None, :]
    c = tl.load(cos_ptr + angle, mask=mask, other=0.0).to(tl.float32)
    s = tl.load(sin_ptr + angle, mask=mask, other=0.0).to(tl.float32)
    if INVERSE:
        s = -s
    y1_ptrs = y_ptr + (bh.to(tl.int64) * n_pos + t.to(tl.int64)[:, None]) * (2 * HALF) + j[None, :]
    out_ty = y_ptr.dtype.element_ty
    tl.store(y1_ptrs, (x1 * c - x2 * s).to(out_ty), mask=mask)
    tl.store(y1_ptrs + HALF, (x1 * s + x2 * c).to(out_ty), mask=mask)


def config_rotary_fwd(n_cols):
    half = n_cols // 2
    block_h = min(max(16, triton.next_power_of_2(half)), MAX_BLOCK_H)
    return {"HALF": half, "BLOCK_H": block_h, "BLOCK_T": max(8, TILE_ELEMS // (2 * block_h)), "num_warps": 4}


KERNELS = {"rotary_fwd": _rotary_fwd}
