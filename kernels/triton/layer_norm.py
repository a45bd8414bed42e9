"""LayerNorm over the last dim of a row-major [n_rows, n_cols] view (torch.nn.functional.layer_norm:
biased variance, rstd = 1 / sqrt(var + eps)), forward, input gradient, and the deterministic
weight / bias gradient reduction shared with rms_norm.

Launch contracts (``*T`` is a pointer whose pointee dtype is the tensor's, fp32/bf16/fp16; x, y, dy, dx
share T, weight / bias / dweight / dbias have the parameter dtype P; ``*fp32`` buffers are float32;
strides are in elements; mean / rstd are contiguous [n_rows]; a pointer whose flag is off is unused
and may be null):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers, *_stride, n_cols / n;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

layer_norm_fwd:
    params:     x *T, weight *P, bias *P, y *T, mean *fp32, rstd *fp32, n_rows i32, n_cols i32,
                x_stride i64, y_stride i64, eps fp32
    constexprs: HAS_WEIGHT, HAS_BIAS, ROWS, BLOCK, SINGLE
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_layer_norm_fwd(n_cols) -> {ROWS, BLOCK, SINGLE, num_warps}
                = kernels.triton.row_config(n_cols)

layer_norm_bwd_dx (dx, and per-program partial sums of dweight = sum(dy * xhat) and dbias = sum(dy)):
    params:     x *T, weight *P, dy *T, mean *fp32, rstd *fp32, dx *T, dw_partial *fp32,
                db_partial *fp32, n_rows i32, n_cols i32, x_stride i64, dy_stride i64, dx_stride i64,
                n_programs i32
    constexprs: HAS_WEIGHT, HAS_BIAS, ROWS, BLOCK, SINGLE
    grid:       (n_programs,)
    config:     config_layer_norm_bwd_dx(n_rows, n_cols, n_sms) -> {ROWS, BLOCK, SINGLE, num_warps,
                n_programs}: kernels.triton.persistent_row_config(n_rows, n_cols, n_sms):
                row_config(n_cols) with num_warps = max(8, num_warps), plus n_programs =
                persistent_programs(cdiv(n_rows, ROWS), num_warps, n_sms) (n_sms: the device's SM count)
    dw_partial / db_partial: contiguous fp32 [n_programs, n_cols], need no zeroing (every element is
                written); written only when HAS_WEIGHT / HAS_BIAS. Then launch norm_bwd_dwdb on each.

norm_bwd_dwdb (column sums of a partial buffer: out[c] = sum_r partial[r, c], in the parameter dtype):
    params:     partial *fp32, out *P, n_part_rows i32, n_cols i32
    constexprs: BLOCK_R, BLOCK_C
    grid:       (cdiv(n_cols, BLOCK_C),)
    config:     config_norm_bwd_dwdb(n_cols) -> {BLOCK_R: 32, BLOCK_C: 64, num_warps: 4}
    Launch once per parameter (dweight, then dbias); partial is contiguous [n_part_rows, n_cols].

The dx and the two partial-sum outputs make the reduction over rows deterministic: each program owns
one row of the partial buffer and norm_bwd_dwdb sums it in a fixed order (Note [Deterministic
parameter gradients]).
"""
import triton
import triton.language as tl

from . import persistent_row_config, row_config
from ._norm_bwd import norm_bwd_single_block
from ._tiles import row_starts, tile_rows

# Note [Deterministic parameter gradients]
# dweight and dbias are sums over all rows. Atomics would make them depend on scheduling, and one
# partial row per row tile would need n_rows / ROWS x n_cols of scratch (a 16k x 8k input: 512 MiB).
# So the backward kernels run a fixed number of programs (Note [Norm backward programs]), each
# walking row tiles pid, pid + n_programs, ... and accumulating its share in registers (single path)
# or in its own row of the partial buffer (looped path, read-modify-write of that row only). The
# column sums in norm_bwd_dwdb then add the n_programs rows in a fixed order.


@triton.jit
def _layer_norm_fwd(x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps,
                    HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr,
                    SINGLE: tl.constexpr):
    rows, row_mask = tile_rows(tl.program_id(0), n_rows, ROWS)
    x_rows = row_starts(x_ptr, rows, x_stride)
    y_rows = row_starts(y_ptr, rows, y_stride)
    cols = tl.arange(0, BLOCK)[None, :]
    if SINGLE:
        mask = row_mask & (cols < n_cols)
        x = tl.load(x_rows + cols, mask=mask, other=0.0).to(tl.float32)
        mean = tl.sum(x, axis=1) / n_cols
        diff = tl.where(mask, x - mean[:, None], 0.0)
        rstd = 1.0 / tl.sqrt_rn(tl.sum(diff * diff, axis=1) / n_cols + eps)
    else:
        acc = tl.zeros([ROWS, BLOCK], tl.float32)
        for start in range(0, n_cols, BLOCK):
            acc += tl.load(x_rows + start + cols, mask=row_mask & (start + cols < n_cols), other=0.0).to(tl.float32)
        mean = tl.sum(acc, axis=1) / n_cols
        acc = tl.zeros([ROWS, BLOCK], tl.float32)
        for start in range(0, n_cols, BLOCK):
            mask = row_mask & (start + cols < n_cols)
            x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
            diff = tl.where(mask, x - mean[:, None], 0.0)
            acc += diff * diff
        rstd = 1.0 / tl.sqrt_rn(tl.sum(acc, axis=1) / n_cols + eps)
    tl.store(mean_ptr + rows, mean, mask=rows < n_rows)
    tl.store(rstd_ptr + rows, rstd, mask=rows < n_rows)
    for start in range(0, n_cols, BLOCK):
        mask = row_mask & (start + cols < n_cols)
        if not SINGLE:
            x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
        y = (x - mean[:, None]) * rstd[:, None]
        if HAS_WEIGHT:
            y = y * tl.load(w_ptr + start + cols, mask=start + cols < n_cols, other=0.0).to(tl.float32)
        if HAS_BIAS:
            y = y + tl.load(b_ptr + start + cols, mask=start + cols < n_cols, other=0.0).to(tl.float32)
        tl.store(y_rows + start + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _ln_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, mean, rstd, HAS_WEIGHT: tl.constexpr):
    """dy, xhat and w * dy of one [ROWS, BLOCK] block at column `start` (0 outside the view)."""
    mask = row_mask & (start + cols < n_cols)
    x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
    dy = tl.load(dy_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
    xhat = tl.where(mask, (x - mean) * rstd, 0.0)
    wdy = dy
    if HAS_WEIGHT:
        wdy = dy * tl.load(w_ptr + start + cols, mask=start + cols < n_cols, other=0.0).to(tl.float32)
    return dy, xhat, wdy, mask


@triton.jit
def _zero_partial(row_ptr, n_cols, BLOCK: tl.constexpr):
    """row[:n_cols] = 0, in BLOCK steps (the looped path, before it accumulates into the row)."""
    for start in range(0, n_cols, BLOCK):
        tl.store(row_ptr + start + tl.arange(0, BLOCK), tl.zeros([BLOCK], tl.float32),
                 mask=start + tl.arange(0, BLOCK) < n_cols)


@triton.jit
def _add_to_partial(row_ptr, start, cols, n_cols, block):
    """row[start + cols] += column sums of `block` (the looped path's partial-row update)."""
    col_mask = start + cols < n_cols
    part = tl.load(row_ptr + start + cols, mask=col_mask, other=0.0)
    tl.store(row_ptr + start + cols, part + tl.sum(block, axis=0)[None, :], mask=col_mask)


@triton.jit
def _layer_norm_bwd_dx(x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols,
                       x_stride, dy_stride, dx_stride, n_programs,
                       HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr,
                       SINGLE: tl.constexpr):
    # dx = (w * dy - xhat * c1 - c2) * rstd with c1 = mean(xhat * w * dy), c2 = mean(w * dy)
    if SINGLE:
        norm_bwd_single_block(x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols,
                              x_stride, dy_stride, dx_stride, n_programs, True, HAS_WEIGHT, HAS_BIAS, ROWS, BLOCK)
    else:  # the looped path accumulates in this program's partial rows (Note [Deterministic ...])
        pid = tl.program_id(0)
        cols = tl.arange(0, BLOCK)[None, :]
        dw_row = dw_ptr + pid.to(tl.int64) * n_cols
        db_row = db_ptr + pid.to(tl.int64) * n_cols
        if HAS_WEIGHT:
            _zero_partial(dw_row, n_cols, BLOCK)
        if HAS_BIAS:
            _zero_partial(db_row, n_cols, BLOCK)
        for tile in range(pid, tl.cdiv(n_rows, ROWS), n_programs):
            rows, row_mask = tile_rows(tile, n_rows, ROWS)
            x_rows = row_starts(x_ptr, rows, x_stride)
            dy_rows = row_starts(dy_ptr, rows, dy_stride)
            dx_rows = row_starts(dx_ptr, rows, dx_stride)
            mean = tl.load(mean_ptr + rows, mask=rows < n_rows, other=0.0)[:, None]
            rstd = tl.load(rstd_ptr + rows, mask=rows < n_rows, other=0.0)[:, None]
            c1_acc = tl.zeros([ROWS, BLOCK], tl.float32)
            c2_acc = tl.zeros([ROWS, BLOCK], tl.float32)
            for start in range(0, n_cols, BLOCK):
                dy, xhat, wdy, mask = _ln_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, mean,
                                                   rstd, HAS_WEIGHT)
                c1_acc += xhat * wdy
                c2_acc += wdy
            c1 = tl.sum(c1_acc, axis=1)[:, None] / n_cols
            c2 = tl.sum(c2_acc, axis=1)[:, None] / n_cols
            for start in range(0, n_cols, BLOCK):
                dy, xhat, wdy, mask = _ln_bwd_load(x_rows, dy_rows, w_ptr, start, cols, row_mask, n_cols, mean,
                                                   rstd, HAS_WEIGHT)
                tl.store(dx_rows + start + cols, ((wdy - (xhat * c1 + c2)) * rstd).to(dx_ptr.dtype.element_ty),
                         mask=mask)
                if HAS_WEIGHT:
                    _add_to_partial(dw_row, start, cols, n_cols, dy * xhat)
                if HAS_BIAS:
                    _add_to_partial(db_row, start, cols, n_cols, dy)


@triton.jit
def norm_bwd_dwdb(partial_ptr, out_ptr, n_part_rows, n_cols, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    cols = tl.program_id(0) * BLOCK_C + tl.arange(0, BLOCK_C)
    acc = tl.zeros([BLOCK_R, BLOCK_C], tl.float32)
    for start in range(0, n_part_rows, BLOCK_R):
        rows = start + tl.arange(0, BLOCK_R)
        mask = (rows[:, None] < n_part_rows) & (cols[None, :] < n_cols)
        acc += tl.load(partial_ptr + rows.to(tl.int64)[:, None] * n_cols + cols[None, :], mask=mask, other=0.0)
    tl.store(out_ptr + cols, tl.sum(acc, axis=0).to(out_ptr.dtype.element_ty), mask=cols < n_cols)


def config_layer_norm_fwd(n_cols):
    return row_config(n_cols)


def config_layer_norm_bwd_dx(n_rows, n_cols, n_sms):
    return persistent_row_config(n_rows, n_cols, n_sms)


def config_norm_bwd_dwdb(n_cols):
    return {"BLOCK_R": 32, "BLOCK_C": 64, "num_warps": 4}


KERNELS = {
    "layer_norm_fwd": _layer_norm_fwd,
    "layer_norm_bwd_dx": _layer_norm_bwd_dx,
    "norm_bwd_dwdb": norm_bwd_dwdb,
}
