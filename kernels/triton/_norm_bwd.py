"""The single-block path of the norms' backward (LayerNorm and RMSNorm, n_cols <= BLOCK), shared by
_layer_norm_bwd_dx and _rms_norm_bwd_dx (inlined by Triton into each)."""
import triton
import triton.language as tl

from ._tiles import row_starts, tile_rows

# Note [Norm backward prefetch]
# A program of the backward walks row tiles pid, pid + n_programs, ... (Note [Deterministic
# parameter gradients] in layer_norm.py). Loading a tile and then reducing it leaves the memory
# system idle during the reductions, and at 8192 columns only one 16-warp program fits an SM, so
# nothing else covers that gap: bf16 reached 78-84% of copy bandwidth. Here each iteration first
# issues the loads of the program's next tile (kept in the stored dtype: a bf16 tile costs half the
# registers) and then reduces the current one, and the weight is loaded once per program instead of
# once per tile. Measured with benchmarks/tune_norm_bwd.py on an H100 (16384 x 8192 bf16): 95-96%
# of copy bandwidth against 78-84% (experiments/results/gpu/2026-12-06-h100-issue11/).


@triton.jit
def _tile_loads(x_ptr, dy_ptr, mean_ptr, rstd_ptr, tile, n_rows, n_cols, x_stride, dy_stride, cols,
                CENTERED: tl.constexpr, ROWS: tl.constexpr):
    """x and dy of row tile `tile` as stored, and its mean (rstd when not CENTERED) and rstd; a tile
    past n_rows reads nothing (every row masked)."""
    rows, row_mask = tile_rows(tile, n_rows, ROWS)
    mask = row_mask & (cols < n_cols)
    x = tl.load(row_starts(x_ptr, rows, x_stride) + cols, mask=mask, other=0.0)
    dy = tl.load(row_starts(dy_ptr, rows, dy_stride) + cols, mask=mask, other=0.0)
    rstd = tl.load(rstd_ptr + rows, mask=rows < n_rows, other=0.0)
    mean = rstd
    if CENTERED:
        mean = tl.load(mean_ptr + rows, mask=rows < n_rows, other=0.0)
    return x, dy, mean, rstd


@triton.jit
def norm_bwd_single_block(x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols,
                          x_stride, dy_stride, dx_stride, n_programs,
                          CENTERED: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr,
                          ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """dx of every row tile of this program, and its rows of the dweight / dbias partial buffers.
    CENTERED (LayerNorm): dx = (w*dy - xhat*c1 - c2) * rstd, xhat = (x - mean) * rstd;
    else (RMSNorm): dx = (w*dy - xhat*c1) * rstd, xhat = x * rstd; c1 = mean(xhat*w*dy), c2 = mean(w*dy).
    Loads one tile ahead (Note [Norm backward prefetch])."""
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)[None, :]
    col_mask = cols < n_cols
    dw_acc = tl.zeros([ROWS, BLOCK], tl.float32)
    db_acc = tl.zeros([ROWS, BLOCK], tl.float32)
    w = tl.full([1, BLOCK], 1.0, tl.float32)
    if HAS_WEIGHT:
        w = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
    x_next, dy_next, mean_next, rstd_next = _tile_loads(x_ptr, dy_ptr, mean_ptr, rstd_ptr, pid, n_rows, n_cols,
                                                        x_stride, dy_stride, cols, CENTERED, ROWS)
    for tile in range(pid, tl.cdiv(n_rows, ROWS), n_programs):
        x_raw, dy_raw, mean, rstd = x_next, dy_next, mean_next, rstd_next
        x_next, dy_next, mean_next, rstd_next = _tile_loads(x_ptr, dy_ptr, mean_ptr, rstd_ptr, tile + n_programs,
                                                            n_rows, n_cols, x_stride, dy_stride, cols, CENTERED,
                                                            ROWS)
        rows, row_mask = tile_rows(tile, n_rows, ROWS)
        mask = row_mask & col_mask
        rstd = rstd[:, None]
        dy = dy_raw.to(tl.float32)
        if CENTERED:
            xhat = tl.where(mask, (x_raw.to(tl.float32) - mean[:, None]) * rstd, 0.0)
        else:
            xhat = x_raw.to(tl.float32) * rstd
        wdy = dy * w
        c1 = tl.sum(xhat * wdy, axis=1)[:, None] / n_cols
        if CENTERED:
            dx = (wdy - (xhat * c1 + tl.sum(wdy, axis=1)[:, None] / n_cols)) * rstd
        else:
            dx = (wdy - xhat * c1) * rstd
        tl.store(row_starts(dx_ptr, rows, dx_stride) + cols, dx.to(dx_ptr.dtype.element_ty), mask=mask)
        dw_acc += dy * xhat
        if HAS_BIAS:
            db_acc += dy
    part = pid.to(tl.int64) * n_cols + tl.arange(0, BLOCK)
    if HAS_WEIGHT:
        tl.store(dw_ptr + part, tl.sum(dw_acc, axis=0), mask=tl.arange(0, BLOCK) < n_cols)
    if HAS_BIAS:
        tl.store(db_ptr + part, tl.sum(db_acc, axis=0), mask=tl.arange(0, BLOCK) < n_cols)
