"""GELU (torch.nn.functional.gelu, approximate='none' or 'tanh') and its gradient, over a flat
contiguous buffer or fused with a bias added along the last dim of a row-major [n_rows, n_cols] view.

Launch contracts (``*T`` is a pointer whose pointee dtype is the tensor's, fp32/bf16/fp16; x, y, dy, dx
share T; bias has the parameter dtype P; strides are in elements; APPROX is 0 for the exact erf form,
1 for the tanh form):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers, *_stride, n_cols / n;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

gelu_fwd (y = gelu(x) over n elements):
    params:     x *T, y *T, n i64
    constexprs: APPROX, BLOCK
    grid:       (cdiv(n, BLOCK),)
    config:     config_gelu_fwd(n) -> {BLOCK: 1024, num_warps: 4}

gelu_bwd (dx = dy * gelu'(x); dx may alias dy):
    params:     x *T, dy *T, dx *T, n i64
    constexprs: APPROX, BLOCK
    grid:       (cdiv(n, BLOCK),)
    config:     config_gelu_bwd(n) -> {BLOCK: 1024, num_warps: 4}

bias_gelu_fwd (y = gelu(x + bias), bias [n_cols] broadcast over rows):
    params:     x *T, bias *P, y *T, n_rows i32, n_cols i32, x_stride i64, y_stride i64
    constexprs: APPROX, ROWS, BLOCK
    grid:       (cdiv(n_rows, ROWS), cdiv(n_cols, BLOCK))
    config:     config_bias_gelu_fwd(n_cols) -> {ROWS, BLOCK, num_warps}: BLOCK = min(max(16,
                next_pow2(n_cols)), 1024), ROWS = max(1, 2048 // BLOCK), num_warps = 4

bias_gelu_bwd (dx = dy * gelu'(x + bias), and per-program partial sums of dbias = sum over rows of dx):
    params:     x *T, bias *P, dy *T, dx *T, db_partial *fp32, n_rows i32, n_cols i32, x_stride i64,
                dy_stride i64, dx_stride i64, n_programs i32
    constexprs: APPROX, ROWS, BLOCK
    grid:       (n_programs, cdiv(n_cols, BLOCK))
    config:     config_bias_gelu_bwd(n_rows, n_cols, n_sms) -> {ROWS, BLOCK, num_warps, n_programs}:
                config_bias_gelu_fwd(n_cols) plus n_programs = persistent_programs(cdiv(n_rows, ROWS),
                num_warps * cdiv(n_cols, BLOCK), n_sms) (a row of column programs counts as one program)
    db_partial: contiguous fp32 [n_programs, n_cols], needs no zeroing; then
                layer_norm.norm_bwd_dwdb(db_partial, dbias, n_programs, n_cols) gives dbias (grid
                (cdiv(n_cols, BLOCK_C),), config_norm_bwd_dwdb(n_cols)). Program (p, c) sums row tiles
                p, p + n_programs, ... of column block c in a fixed order, so dbias is deterministic.
"""
import triton
import triton.language as tl

from . import cdiv, next_pow2, persistent_programs
from .layer_norm import norm_bwd_dwdb  # noqa: F401  (the dbias reduction)

_FLAT_BLOCK = 1024  # 8 bf16 / 4 fp32 per thread at 4 warps: one 16-byte access per thread and tensor
# jit functions may read globals only when they are constexprs
_SQRT1_2 = tl.constexpr(0.7071067811865476)
_INV_SQRT_2PI = tl.constexpr(0.3989422804014327)
_SQRT_2_OVER_PI = tl.constexpr(0.7978845608028654)
_KAPPA = tl.constexpr(0.044715)


@triton.jit
def _tanh(u):
    # 1 - 2 / (exp(2u) + 1): saturates to +-1 without inf / inf, and lowers to ex2 on the device
    return 1.0 - 2.0 / (tl.exp(2.0 * u) + 1.0)


@triton.jit
def _gelu(x, APPROX: tl.constexpr):
    if APPROX:
        return 0.5 * x * (1.0 + _tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x)))
    else:
        return 0.5 * x * (1.0 + tl.math.erf(x * _SQRT1_2))


@triton.jit
def _gelu_grad(x, APPROX: tl.constexpr):
    """d gelu / dx, torch's formulas."""
    if APPROX:
        t = _tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _KAPPA * x * x)
    else:
        return 0.5 * (1.0 + tl.math.erf(x * _SQRT1_2)) + x * tl.exp(-0.5 * x * x) * _INV_SQRT_2PI


@triton.jit
def _gelu_fwd(x_ptr, y_ptr, n, APPROX: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    tl.store(y_ptr + offsets, _gelu(x, APPROX).to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _gelu_bwd(x_ptr, dy_ptr, dx_ptr, n, APPROX: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    dy = tl.load(dy_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    tl.store(dx_ptr + offsets, (dy * _gelu_grad(x, APPROX)).to(dx_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _bias_gelu_fwd(x_ptr, b_ptr, y_ptr, n_rows, n_cols, x_stride, y_stride,
                   APPROX: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
    x = tl.load(x_ptr + rows.to(tl.int64)[:, None] * x_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    x += tl.load(b_ptr + cols, mask=cols < n_cols, other=0.0).to(tl.float32)[None, :]
    tl.store(y_ptr + rows.to(tl.int64)[:, None] * y_stride + cols[None, :], _gelu(x, APPROX).to(y_ptr.dtype.element_ty),
             mask=mask)


@triton.jit
def _bias_gelu_bwd(x_ptr, b_ptr, dy_ptr, dx_ptr, db_ptr, n_rows, n_cols, x_stride, dy_stride, dx_stride, n_programs,
                   APPROX: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    col_mask = cols < n_cols
    bias = tl.load(b_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)[None, :]
    db_acc = tl.zeros([ROWS, BLOCK], tl.float32)
    for tile in range(pid, tl.cdiv(n_rows, ROWS), n_programs):
        rows = (tile * ROWS + tl.arange(0, ROWS)).to(tl.int64)
        mask = (rows[:, None] < n_rows) & col_mask[None, :]
        x = tl.load(x_ptr + rows[:, None] * x_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(dy_ptr + rows[:, None] * dy_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        dx = dy * _gelu_grad(x + bias, APPROX)
        tl.store(dx_ptr + rows[:, None] * dx_stride + cols[None, :], dx.to(dx_ptr.dtype.element_ty), mask=mask)
        db_acc += dx  # masked elements have dy = 0, so dx = 0
    tl.store(db_ptr + pid.to(tl.int64) * n_cols + cols, tl.sum(db_acc, axis=0), mask=col_mask)


def config_gelu_fwd(n):
    return {"BLOCK": _FLAT_BLOCK, "num_warps": 4}


config_gelu_bwd = config_gelu_fwd


def config_bias_gelu_fwd(n_cols):
    block = min(max(16, next_pow2(n_cols)), 1024)
    return {"ROWS": max(1, 2048 // block), "BLOCK": block, "num_warps": 4}


def config_bias_gelu_bwd(n_rows, n_cols, n_sms):
    c = config_bias_gelu_fwd(n_cols)
    c["n_programs"] = persistent_programs(cdiv(n_rows, c["ROWS"]), c["num_warps"] * cdiv(n_cols, c["BLOCK"]), n_sms)
    return c


KERNELS = {
    "gelu_fwd": _gelu_fwd,
    "gelu_bwd": _gelu_bwd,
    "bias_gelu_fwd": _bias_gelu_fwd,
    "bias_gelu_bwd": _bias_gelu_bwd,
}
