"""RMSNorm over the last dim of a row-major [n_rows, n_cols] view (torch.nn.functional.rms_norm:
y = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps); the adapter passes eps, which is
torch.finfo(x.dtype).eps when the caller gives None), forward and input gradient. The weight
gradient's column sums use layer_norm.norm_bwd_dwdb (listed in layer_norm.KERNELS only).

Launch contracts (``*T`` is a pointer whose pointee dtype is the tensor's, fp32/bf16/fp16; x, y, dy, dx
share T, weight has the parameter dtype P; ``*fp32`` buffers are float32; strides are in elements;
rstd is contiguous [n_rows]; a pointer whose flag is off is unused and may be null):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers, *_stride, n_cols / n;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

rms_norm_fwd:
    params:     x *T, weight *P, y *T, rstd *fp32, n_rows i32, n_cols i32, x_stride i64, y_stride i64,
                eps fp32
    constexprs: HAS_WEIGHT, ROWS, BLOCK, SINGLE
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_rms_norm_fwd(n_cols) -> {ROWS, BLOCK, SINGLE, num_warps}
                = kernels.triton.row_config(n_cols)

rms_norm_bwd_dx (dx = (w * dy - xhat * mean(xhat * w * dy)) * rstd with xhat = x * rstd, and per-program
partial sums of dweight = sum(dy * xhat)):
    params:     x *T, weight *P, dy *T, rstd *fp32, dx *T, dw_partial *fp32, n_rows i32, n_cols i32,
                x_stride i64, dy_stride i64, dx_stride i64, n_programs i32
    constexprs: HAS_WEIGHT, ROWS, BLOCK, SINGLE
    grid:       (n_programs,)
    config:     config_rms_norm_bwd_dx(n_rows, n_cols, n_sms) -> {ROWS, BLOCK, SINGLE, num_warps,
                n_programs}: kernels.triton.persistent_row_config(n_rows, n_cols, n_sms):
                row_config(n_cols) with num_warps = max(8, num_warps), plus n_programs =
                persistent_programs(cdiv(n_rows, ROWS), num_warps, n_sms) (n_sms: the device's SM count)
    dw_partial: contiguous fp32 [n_programs, n_cols], needs no zeroing, written only when HAS_WEIGHT;
                then norm_bwd_dwdb(dw_partial, dweight, n_programs, n_cols) gives dweight
                (layer_norm.py: grid (cdiv(n_cols, BLOCK_C),), config_norm_bwd_dwdb(n_cols)).
"""
import triton
import triton.language as tl

from . import persistent_row_config, row_config
from ._norm_bwd import norm_bwd_single_block
from ._tiles import row_starts, tile_rows
from .layer_norm import _add_to_partial, _zero_partial, norm_bwd_dwdb  # noqa: F401  (the dweight reduction)


@triton.jit
def _rms_norm_fwd(x_ptr, w_ptr, y_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps,
                  HAS_WEIGHT: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    rows, row_mask = tile_rows(tl.program_id(0), n_rows, ROWS)
    x_rows = row_starts(x_ptr, rows, x_stride)
    y_rows = row_starts(y_ptr, rows, y_stride)
    cols = tl.arange(0, BLOCK)[None, :]
    if SINGLE:
        x = tl.load(x_rows + cols, mask=row_mask & (cols < n_cols), other=0.0).to(tl.float32)
        rstd = 1.0 / tl.sqrt_rn(tl.sum(x * x, axis=1) / n_cols + eps)
    else:
        acc = tl.zeros([ROWS, BLOCK], tl.float32)
        for start in range(0, n_cols, BLOCK):
            x = tl.load(x_rows + start + cols, mask=row_mask & (start + cols < n_cols), other=0.0).to(tl.float32)
            acc += x * x
        rstd = 1.0 / tl.sqrt_rn(tl.sum(acc, axis=1) / n_cols + eps)
    tl.store(rstd_ptr + rows, rstd, mask=rows < n_rows)
    for start in range(0, n_cols, BLOCK):
        mask = row_mask & (start + cols < n_cols)
        if not SINGLE:
            x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
        y = x * rstd[:, None]
        if HAS_WEIGHT:
            y = y * tl.load(w_ptr + start + cols, mask=start + cols < n_cols, other=0.0).to(tl.float32)
        tl.store(y_rows + start + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rms_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, rstd, HAS_WEIGHT: tl.constexpr):
    """dy, xhat and w * dy of one [ROWS, BLOCK] block at column `start` (0 outside the view)."""
    mask = row_mask & (start + cols < n_cols)
    xhat = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32) * rstd
    dy = tl.load(dy_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
    wdy = dy
    if HAS_WEIGHT:
        wdy = dy * tl.load(w_ptr + start + cols, mask=start + cols < n_cols, other=0.0).to(tl.float32)
    return dy, xhat, wdy, mask


@triton.jit
def _rms_norm_bwd_dx(x_ptr, w_ptr, dy_ptr, rstd_ptr, dx_ptr, dw_ptr, n_rows, n_cols, x_stride, dy_stride,
                     dx_stride, n_programs,
                     HAS_WEIGHT: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    # programs walk row tiles and keep their dweight share apart (layer_norm.py, Note [Deterministic
    # parameter gradients])
    if SINGLE:
        norm_bwd_single_block(x_ptr, w_ptr, dy_ptr, rstd_ptr, rstd_ptr, dx_ptr, dw_ptr, dw_ptr, n_rows, n_cols,
                              x_stride, dy_stride, dx_stride, n_programs, False, HAS_WEIGHT, False, ROWS, BLOCK)
    else:
        pid = tl.program_id(0)
        cols = tl.arange(0, BLOCK)[None, :]
        dw_row = dw_ptr + pid.to(tl.int64) * n_cols
        if HAS_WEIGHT:
            _zero_partial(dw_row, n_cols, BLOCK)
        for tile in range(pid, tl.cdiv(n_rows, ROWS), n_programs):
            rows, row_mask = tile_rows(tile, n_rows, ROWS)
            x_rows = row_starts(x_ptr, rows, x_stride)
            dy_rows = row_starts(dy_ptr, rows, dy_stride)
            dx_rows = row_starts(dx_ptr, rows, dx_stride)
            rstd = tl.load(rstd_ptr + rows, mask=rows < n_rows, other=0.0)[:, None]
            c1_acc = tl.zeros([ROWS, BLOCK], tl.float32)
            for start in range(0, n_cols, BLOCK):
                dy, xhat, wdy, mask = _rms_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, rstd,
                                                    HAS_WEIGHT)
                c1_acc += xhat * wdy
            c1 = tl.sum(c1_acc, axis=1)[:, None] / n_cols
            for start in range(0, n_cols, BLOCK):
                dy, xhat, wdy, mask = _rms_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, rstd,
                                                    HAS_WEIGHT)
                tl.store(dx_rows + start + cols, ((wdy - xhat * c1) * rstd).to(dx_ptr.dtype.element_ty), mask=mask)
                if HAS_WEIGHT:
                    _add_to_partial(dw_row, start, cols, n_cols, dy * xhat)


def config_rms_norm_fwd(n_cols):
    return row_config(n_cols)


def config_rms_norm_bwd_dx(n_rows, n_cols, n_sms):
    return persistent_row_config(n_rows, n_cols, n_sms)


KERNELS = {
    "rms_norm_fwd": _rms_norm_fwd,
    "rms_norm_bwd_dx": _rms_norm_bwd_dx,
}
