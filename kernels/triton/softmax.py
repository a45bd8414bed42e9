"""Softmax and log-softmax over the last dim of a row-major [n_rows, n_cols] view, forward and backward.

Launch contracts (``*T`` is a pointer whose pointee dtype is the tensor's, fp32/bf16/fp16; all tensors
of one launch share T; strides are in elements; row kernels use ``c = config_<name>(n_cols)``):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers, *_stride, n_cols / n;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

softmax_fwd / log_softmax_fwd (one function, LOG selects; y = softmax(x) or log_softmax(x)):
    params:     x *T, y *T, n_rows i32, n_cols i32, x_stride i64, y_stride i64
    constexprs: LOG (0 softmax_fwd, 1 log_softmax_fwd), ROWS, BLOCK, SINGLE
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_softmax_fwd(n_cols) / config_log_softmax_fwd(n_cols) -> {ROWS, BLOCK, SINGLE,
                num_warps} = kernels.triton.row_config(n_cols)

softmax_bwd / log_softmax_bwd (one function, LOG selects; y is the forward output, g its gradient):
    softmax_bwd: gi = y * (g - sum(g * y)); log_softmax_bwd: gi = g - exp(y) * sum(g)
    params:     y *T, g *T, gi *T, n_rows i32, n_cols i32, y_stride i64, g_stride i64, gi_stride i64
    constexprs: LOG (0 softmax_bwd, 1 log_softmax_bwd), ROWS, BLOCK, SINGLE
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_softmax_bwd(n_cols) / config_log_softmax_bwd(n_cols) = row_config(n_cols)

A row of all -inf gives NaN, as in torch.
"""
import triton
import triton.language as tl

from . import row_config
from ._tiles import row_starts, tile_rows

@triton.jit
def looped_lse(x_rows, cols, row_mask, n_cols, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """log(sum(exp(x))) of each of ROWS rows, walking them in BLOCK-column steps with a running max
    and a sum rescaled whenever the max grows (_tiles.py, Note [Row tiles and the looped path]; also
    cross_entropy's looped path)."""
    m = tl.full([ROWS], -float("inf"), tl.float32)
    total = tl.zeros([ROWS], tl.float32)
    for start in range(0, n_cols, BLOCK):
        mask = row_mask & (start + cols < n_cols)
        x = tl.load(x_rows + start + cols, mask=mask, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=1))
        total = total * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new[:, None]), axis=1)
        m = m_new
    return m + tl.log(total)


@triton.jit
def _softmax_fwd(x_ptr, y_ptr, n_rows, n_cols, x_stride, y_stride,
                 LOG: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    rows, row_mask = tile_rows(tl.program_id(0), n_rows, ROWS)
    x_rows = row_starts(x_ptr, rows, x_stride)
    y_rows = row_starts(y_ptr, rows, y_stride)
    cols = tl.arange(0, BLOCK)[None, :]
    if SINGLE:
        mask = row_mask & (cols < n_cols)
        x = tl.load(x_rows + cols, mask=mask, other=-float("inf")).to(tl.float32)
        shifted = x - tl.max(x, axis=1)[:, None]
        e = tl.exp(shifted)
        total = tl.sum(e, axis=1)[:, None]
        if LOG:
            y = shifted - tl.log(total)
        else:
            y = e / total
        tl.store(y_rows + cols, y.to(y_ptr.dtype.element_ty), mask=mask)
    else:
        lse = looped_lse(x_rows, cols, row_mask, n_cols, ROWS, BLOCK)[:, None]
        for start in range(0, n_cols, BLOCK):
            mask = row_mask & (start + cols < n_cols)
            x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
            if LOG:
                y = x - lse
            else:
                y = tl.exp(x - lse)
            tl.store(y_rows + start + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _softmax_bwd(y_ptr, g_ptr, gi_ptr, n_rows, n_cols, y_stride, g_stride, gi_stride,
                 LOG: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    rows, row_mask = tile_rows(tl.program_id(0), n_rows, ROWS)
    y_rows = row_starts(y_ptr, rows, y_stride)
    g_rows = row_starts(g_ptr, rows, g_stride)
    gi_rows = row_starts(gi_ptr, rows, gi_stride)
    cols = tl.arange(0, BLOCK)[None, :]
    if SINGLE:
        mask = row_mask & (cols < n_cols)
        y = tl.load(y_rows + cols, mask=mask, other=0.0).to(tl.float32)
        g = tl.load(g_rows + cols, mask=mask, other=0.0).to(tl.float32)
        if LOG:
            gi = g - tl.exp(y) * tl.sum(g, axis=1)[:, None]
        else:
            gi = y * (g - tl.sum(g * y, axis=1)[:, None])
        tl.store(gi_rows + cols, gi.to(gi_ptr.dtype.element_ty), mask=mask)
    else:
        acc = tl.zeros([ROWS, BLOCK], tl.float32)
        for start in range(0, n_cols, BLOCK):
            mask = row_mask & (start + cols < n_cols)
            g = tl.load(g_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
            if LOG:
                acc += g
            else:
                acc += g * tl.load(y_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
        dot = tl.sum(acc, axis=1)[:, None]
        for start in range(0, n_cols, BLOCK):
            mask = row_mask & (start + cols < n_cols)
            y = tl.load(y_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
            g = tl.load(g_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
            if LOG:
                gi = g - tl.exp(y) * dot
            else:
                gi = y * (g - dot)
            tl.store(gi_rows + start + cols, gi.to(gi_ptr.dtype.element_ty), mask=mask)


def config_softmax_fwd(n_cols):
    return row_config(n_cols)


config_log_softmax_fwd = config_softmax_bwd = config_log_softmax_bwd = config_softmax_fwd

KERNELS = {
    "softmax_fwd": _softmax_fwd,
    "log_softmax_fwd": _softmax_fwd,
    "softmax_bwd": _softmax_bwd,
    "log_softmax_bwd": _softmax_bwd,
}
# The LOG constexpr each KERNELS name is compiled with.
LOG = {"softmax_fwd": 0, "log_softmax_fwd": 1, "softmax_bwd": 0, "log_softmax_bwd": 1}
