"""2-d convolution (NCHW, groups 1) as implicit GEMMs: the forward, the input's gradient and the weight's
gradient each read their operands straight from the NCHW tensors, zero padding, stride and dilation
applied in the loads' addresses and masks, so no window matrix (im2col), padded copy or layout change
is ever written (Note [Implicit GEMM convolution]).

Launch contract (``*T`` is a pointer whose pointee dtype is the operands', fp32/bf16/fp16; x, dy, w, y,
dx are contiguous; sizes are i32, offsets are computed in int64):
Each kernel is compiled generic and aligned (tt.divisibility 16 on the pointers only: no size parameter
is named as aligned_param's strides are); the launcher picks by the arguments.

conv2d_fwd:     y[n, oc, oh, ow] = sum over (c, kh, kw) of x[n, c, oh * step_h - pad_h + kh * dil_h,
                ow * step_w - pad_w + kw * dil_w] * w[oc, c, kh, kw] (+ bias[oc])
    params:     x *T, w *T, b *T (read only when HAS_BIAS), y *T, n_batch i32, n_chan i32, height i32,
                width i32, n_out i32, out_h i32, out_w i32, step_h i32, step_w i32, pad_h i32, pad_w i32,
                dil_h i32, dil_w i32
    constexprs: HAS_BIAS, IEEE, KH, KW, BLOCK_M, BLOCK_N, BLOCK_K
    grid:       (cdiv(n_batch * out_h * out_w, BLOCK_M), cdiv(n_out, BLOCK_N))
conv2d_dgrad:   dx[n, c, ih, iw] = sum over (kh, kw, oc) of dy[n, oc, oh, ow] * w[oc, c, kh, kw] where
                oh * step_h = ih + pad_h - kh * dil_h (the same in w), taps that hit no output skipped
    params:     dy *T, w *T, dx *T, then the sizes of conv2d_fwd from n_batch on
    constexprs: IEEE, KH, KW, BLOCK_M, BLOCK_N, BLOCK_K
    grid:       (cdiv(n_batch * height * width, BLOCK_M), cdiv(n_chan, BLOCK_N))
conv2d_wgrad:   part[s, oc, c * KH * KW + kh * KW + kw] = the sum over split s's positions (n, oh, ow) of
                dy[n, oc, oh, ow] * x[n, c, ih, iw], in float32; the caller sums the splits
    params:     dy *T, x *T, part *fp32, then the sizes of conv2d_fwd from n_batch on, split_len i32
    constexprs: IEEE, KH, KW, BLOCK_M, BLOCK_N, BLOCK_K
    grid:       (cdiv(n_out, BLOCK_M), cdiv(n_chan, BLOCK_N) * KH * KW, cdiv(n_batch * out_h * out_w,
                split_len)); split_len a multiple of BLOCK_K
    config:     config_conv2d(rows, cols, dtype_bytes, n_sms) -> {BLOCK_M, BLOCK_N, BLOCK_K, num_warps,
                num_stages}: BLOCK_M = 128 (64 when rows <= 64), BLOCK_N = min(128, max(16, next_pow2(cols))),
                both at most 64 when those tiles would be fewer than the SMs (n_sms), BLOCK_K = 32 for 4-byte operands and 64 for 2-byte ones, num_warps = 8 when BLOCK_M * BLOCK_N
                >= 128 * 128 else 4, num_stages = 3; rows, cols: the GEMM's output rows and columns (fwd:
                n_batch * out_h * out_w, n_out; dgrad: n_batch * height * width, n_chan; wgrad: n_out, n_chan)
    IEEE:       1 computes float32 products in full float32 precision, 0 lets tensor cores round float32
                inputs to TF32 (vt.backends.cudnn.allow_tf32); 2-byte operands pass 0.
"""
import triton
import triton.language as tl

from . import next_pow2
from ._dot import dot

# Note [Implicit GEMM convolution]
# A convolution is a GEMM whose A operand is the matrix of input windows. Composed from ops
# (vibetensor/nn/_conv.py, Note [Convolution by windows]) that matrix is written out: a padded copy,
# an NHWC copy, a KH * KW times larger window copy, then the GEMM, then an NCHW copy of its result;
# each pass moves the activation through HBM, so at ResNet-18 CIFAR shapes the copies cost more than
# the GEMM. Here each tile of A is loaded from the NCHW input where it lies: a program's rows are
# output positions (n, oh, ow), its reduction walks the kernel taps and, per tap, blocks of input
# channels; a tap's rows read x at (oh * step - pad + kh * dil, ...), masked to zero outside the image,
# which is the padding. Consecutive rows are consecutive ow, so for a fixed channel the loads are
# contiguous runs (stride 1) and the output tile is stored straight into NCHW.
# The input's gradient is the same walk from the other side: rows are input positions, and a tap
# reaches the output position oh = (ih + pad - kh * dil) / step only where that divides exactly
# (strided convolutions: the other taps are masked, no zeros are inserted into dy). The weight's
# gradient reduces over every output position (n * oh * ow, large) into a small [OC, C * KH * KW]
# result, so that reduction is split across programs (split_len positions each) into float32 partial
# sums that the caller adds: enough programs to fill the GPU, and a deterministic sum.

MAX_BLOCK = 128


@triton.jit
def _conv2d_fwd(x_ptr, w_ptr, b_ptr, y_ptr, n_batch, n_chan, height, width, n_out, out_h, out_w, step_h, step_w,
                pad_h, pad_w, dil_h, dil_w, HAS_BIAS: tl.constexpr, IEEE: tl.constexpr, KH: tl.constexpr,
                KW: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    out_area = out_h * out_w
    m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    n = m // out_area
    pos = m - n * out_area
    oh = pos // out_w
    ow = pos - oh * out_w
    row_ok = m < n_batch * out_area
    oc = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    oc_ok = oc < n_out
    area = height.to(tl.int64) * width
    x_rows = x_ptr + n.to(tl.int64) * n_chan * area
    w_cols = w_ptr + oc.to(tl.int64) * (n_chan * KH * KW)
    chan_blocks = tl.cdiv(n_chan, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for step in range(0, KH * KW * chan_blocks):
        tap = step // chan_blocks
        c = (step - tap * chan_blocks) * BLOCK_K + tl.arange(0, BLOCK_K)
        kh = tap // KW
        ih = oh * step_h - pad_h + kh * dil_h
        iw = ow * step_w - pad_w + (tap - kh * KW) * dil_w
        a_ok = row_ok & (ih >= 0) & (ih < height) & (iw >= 0) & (iw < width)
        c_ok = c < n_chan
        a = tl.load(x_rows[:, None] + c.to(tl.int64)[None, :] * area + (ih * width + iw)[:, None],
                    mask=a_ok[:, None] & c_ok[None, :], other=0.0)
        b = tl.load(w_cols[None, :] + (c * (KH * KW) + tap)[:, None], mask=c_ok[:, None] & oc_ok[None, :], other=0.0)
        acc = dot(a, b, acc, IEEE)
    if HAS_BIAS:
        acc += tl.load(b_ptr + oc, mask=oc_ok, other=0.0).to(tl.float32)[None, :]
    y = y_ptr + (n.to(tl.int64) * n_out * out_area + pos)[:, None] + oc.to(tl.int64)[None, :] * out_area
    tl.store(y, acc.to(y_ptr.dtype.element_ty), mask=row_ok[:, None] & oc_ok[None, :])


@triton.jit
def _conv2d_dgrad(dy_ptr, w_ptr, dx_ptr, n_batch, n_chan, height, width, n_out, out_h, out_w, step_h, step_w,
                  pad_h, pad_w, dil_h, dil_w, IEEE: tl.constexpr, KH: tl.constexpr, KW: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    area = height * width
    m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    n = m // area
    pos = m - n * area
    ih = pos // width
    iw = pos - ih * width
    row_ok = m < n_batch * area
    c = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ok = c < n_chan
    out_area = out_h.to(tl.int64) * out_w
    dy_rows = dy_ptr + n.to(tl.int64) * n_out * out_area
    out_blocks = tl.cdiv(n_out, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for step in range(0, KH * KW * out_blocks):
        tap = step // out_blocks
        oc = (step - tap * out_blocks) * BLOCK_K + tl.arange(0, BLOCK_K)
        kh = tap // KW
        # The output position a tap reaches from this input position, where the stride divides.
        th = ih + pad_h - kh * dil_h
        tw = iw + pad_w - (tap - kh * KW) * dil_w
        oh = th // step_h
        ow = tw // step_w
        a_ok = row_ok & (th >= 0) & (tw >= 0) & (oh * step_h == th) & (ow * step_w == tw) & (oh < out_h) & (ow < out_w)
        oc_ok = oc < n_out
        a = tl.load(dy_rows[:, None] + oc.to(tl.int64)[None, :] * out_area + (oh * out_w + ow)[:, None],
                    mask=a_ok[:, None] & oc_ok[None, :], other=0.0)
        b = tl.load(w_ptr + (oc.to(tl.int64) * (n_chan * KH * KW) + tap)[:, None] + (c * (KH * KW))[None, :],
                    mask=oc_ok[:, None] & c_ok[None, :], other=0.0)
        acc = dot(a, b, acc, IEEE)
    dx = dx_ptr + (n.to(tl.int64) * n_chan * area + pos)[:, None] + c.to(tl.int64)[None, :] * area
    tl.store(dx, acc.to(dx_ptr.dtype.element_ty), mask=row_ok[:, None] & c_ok[None, :])


@triton.jit
def _conv2d_wgrad(dy_ptr, x_ptr, part_ptr, n_batch, n_chan, height, width, n_out, out_h, out_w, step_h, step_w,
                  pad_h, pad_w, dil_h, dil_w, split_len, IEEE: tl.constexpr, KH: tl.constexpr, KW: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    oc = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    oc_ok = oc < n_out
    chan_blocks = tl.cdiv(n_chan, BLOCK_N)
    tap = tl.program_id(1) // chan_blocks
    c = (tl.program_id(1) - tap * chan_blocks) * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ok = c < n_chan
    kh = tap // KW
    kw = tap - kh * KW
    out_area = out_h * out_w
    positions = n_batch * out_area
    area = height.to(tl.int64) * width
    first = tl.program_id(2) * split_len
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(first, tl.minimum(first + split_len, positions), BLOCK_K):
        k = k0 + tl.arange(0, BLOCK_K)
        k_ok = k < positions
        n = k // out_area
        pos = k - n * out_area
        oh = pos // out_w
        ow = pos - oh * out_w
        a = tl.load(dy_ptr + (n.to(tl.int64) * n_out * out_area + pos)[None, :] + oc.to(tl.int64)[:, None] * out_area,
                    mask=oc_ok[:, None] & k_ok[None, :], other=0.0)
        ih = oh * step_h - pad_h + kh * dil_h
        iw = ow * step_w - pad_w + kw * dil_w
        b_ok = k_ok & (ih >= 0) & (ih < height) & (iw >= 0) & (iw < width)
        b = tl.load(x_ptr + (n.to(tl.int64) * n_chan * area + ih * width + iw)[:, None] + c.to(tl.int64)[None, :] * area,
                    mask=b_ok[:, None] & c_ok[None, :], other=0.0)
        acc = dot(a, b, acc, IEEE)
    taps = KH * KW
    part = (part_ptr + tl.program_id(2).to(tl.int64) * n_out * n_chan * taps + (oc.to(tl.int64) * n_chan * taps)[:, None]
            + (c * taps + tap)[None, :])
    tl.store(part, acc, mask=oc_ok[:, None] & c_ok[None, :])


def config_conv2d(rows, cols, dtype_bytes, n_sms):
    block_m = MAX_BLOCK if rows > 64 else 64
    block_n = min(MAX_BLOCK, max(16, next_pow2(cols)))
    if -(-rows // block_m) * -(-cols // block_n) < n_sms:  # fewer tiles than SMs: smaller ones, more programs
        block_m, block_n = 64, min(block_n, 64)
    return {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": 32 if dtype_bytes == 4 else 64,
            "num_warps": 8 if block_m * block_n >= MAX_BLOCK * MAX_BLOCK else 4, "num_stages": 3}


def wgrad_split_len(positions, tiles, n_sms, block_k):
    """Positions per split of conv2d_wgrad's reduction: about two programs per SM over `tiles` output
    tiles, each split at least 4 * block_k positions long, a multiple of block_k."""
    splits = max(1, min(-(-2 * n_sms // tiles), -(-positions // (4 * block_k))))
    per = -(-positions // splits)
    return -(-per // block_k) * block_k


KERNELS = {"conv2d_fwd": _conv2d_fwd, "conv2d_dgrad": _conv2d_dgrad, "conv2d_wgrad": _conv2d_wgrad}
