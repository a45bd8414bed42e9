"""Softmax and log-softmax over the last dim, forward and backward: CuTe DSL kernels with the launch
contracts of kernels/triton/softmax.py (same parameters in order, constexprs LOG / ROWS / BLOCK /
SINGLE, grid (cdiv(n_rows, ROWS),), 32 * num_warps threads).

SINGLE: the CTA's [ROWS, BLOCK] tile is read once into registers (kernels/cute/_rows.py), reduced and
written. Looped (SINGLE = 0): the row is walked in BLOCK-column steps twice, statistics then output
(Note [Per-thread online softmax]).
"""
import math

import cuda.bindings.driver as cuda
import cutlass
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

from ._rows import RowTile, elem_bytes

LOG2E = math.log2(math.e)


def exp(x):
    """e^x as Triton's tl.exp lowers it (ex2.approx of x * log2 e); exp(-inf) = 0."""
    return cute.math.exp2(x * LOG2E, fastmath=True)


# Note [Per-thread online softmax]
# The looped path keeps, per thread and row slot, a running max m and a sum s of exp(x - m) over the
# thread's own elements of every step, rescaling s when m grows; only after the last step are the
# threads of a row combined: M = row max of m, S = row sum of s * exp(m - M), lse = M + log(S). Two
# row reductions per row instead of two per step. While a thread has seen only -inf, its m is -inf and
# the shift is taken as 0 so that s stays 0 (exp(-inf - -inf) would be NaN); a row that is -inf
# throughout gets M = -inf and NaN, as torch.


@cute.jit
def _online_step(tile: cutlass.Constexpr, x_ptr: cute.Pointer, row0, n_rows, n_cols, x_stride, start, m, s):
    x = tile.load(x_ptr, row0, n_rows, n_cols, x_stride, -math.inf, start)
    step_max = tile.partial(x, "max")
    for r in cutlass.range_constexpr(tile.rpt):
        m_new = cute.arch.fmax(m[r], step_max[r])
        shift = m_new
        if m_new == -math.inf:
            shift = Float32(0.0)
        acc = s[r] * exp(m[r] - shift)
        for c in cutlass.range_constexpr(tile.cpt):
            acc += exp(x[r, c] - shift)
        s[r] = acc
        m[r] = m_new


@cute.jit
def online_lse(tile: cutlass.Constexpr, x_ptr: cute.Pointer, row0, n_rows, n_cols, x_stride, buf):
    """log(sum(exp(x))) over the whole rows, rmem [rpt] of the thread's row slots, walking them in
    BLOCK-column steps (Note [Per-thread online softmax]); also cross_entropy's looped path."""
    m = cute.make_rmem_tensor(tile.rpt, Float32)
    s = cute.make_rmem_tensor(tile.rpt, Float32)
    m.fill(-math.inf)
    s.fill(0.0)
    # (loop bodies are helper calls: a dynamic loop must not rebind names the kernel uses elsewhere)
    for start in cutlass.range(0, n_cols, tile.block, unroll=1):
        _online_step(tile, x_ptr, row0, n_rows, n_cols, x_stride, start, m, s)
    big = cute.make_rmem_tensor(tile.rpt, Float32)
    for r in cutlass.range_constexpr(tile.rpt):
        big[r] = m[r]
    tile.row_reduce(big, "max", buf)
    for r in cutlass.range_constexpr(tile.rpt):
        s[r] = s[r] * exp(m[r] - big[r])
    tile.row_reduce(s, "sum", buf)
    lse = cute.make_rmem_tensor(tile.rpt, Float32)
    for r in cutlass.range_constexpr(tile.rpt):
        lse[r] = big[r] + cute.math.log(s[r])
    return lse


@cute.jit
def _fwd_out_step(tile: cutlass.Constexpr, LOG: cutlass.Constexpr, x_ptr: cute.Pointer, y_ptr: cute.Pointer,
                  row0, n_rows, n_cols, x_stride, y_stride, start, lse):
    x = tile.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0, start)
    for r in cutlass.range_constexpr(tile.rpt):
        for c in cutlass.range_constexpr(tile.cpt):
            if cutlass.const_expr(LOG):
                x[r, c] = x[r, c] - lse[r]
            else:
                x[r, c] = exp(x[r, c] - lse[r])
    tile.store(y_ptr, x, row0, n_rows, n_cols, y_stride, start)


@cute.jit
def _bwd_dot_step(tile: cutlass.Constexpr, LOG: cutlass.Constexpr, y_ptr: cute.Pointer, g_ptr: cute.Pointer,
                  row0, n_rows, n_cols, y_stride, g_stride, start, dot):
    g = tile.load(g_ptr, row0, n_rows, n_cols, g_stride, 0.0, start)
    if cutlass.const_expr(LOG):
        for r in cutlass.range_constexpr(tile.rpt):
            acc = dot[r]
            for c in cutlass.range_constexpr(tile.cpt):
                acc += g[r, c]
            dot[r] = acc
    else:
        y = tile.load(y_ptr, row0, n_rows, n_cols, y_stride, 0.0, start)
        for r in cutlass.range_constexpr(tile.rpt):
            acc = dot[r]
            for c in cutlass.range_constexpr(tile.cpt):
                acc += g[r, c] * y[r, c]
            dot[r] = acc


@cute.jit
def _input_grad(tile: cutlass.Constexpr, LOG: cutlass.Constexpr, y: cute.Tensor, g: cute.Tensor, dot: cute.Tensor):
    """g becomes the input gradient in place: g - exp(y) * dot (LOG) or y * (g - dot)."""
    for r in cutlass.range_constexpr(tile.rpt):
        for c in cutlass.range_constexpr(tile.cpt):
            if cutlass.const_expr(LOG):
                g[r, c] = g[r, c] - exp(y[r, c]) * dot[r]
            else:
                g[r, c] = y[r, c] * (g[r, c] - dot[r])


@cute.jit
def _bwd_out_step(tile: cutlass.Constexpr, LOG: cutlass.Constexpr, y_ptr: cute.Pointer, g_ptr: cute.Pointer,
                  gi_ptr: cute.Pointer, row0, n_rows, n_cols, y_stride, g_stride, gi_stride, start, dot):
    """gi = g - exp(y) * dot (LOG) or y * (g - dot) on one BLOCK-column step."""
    y = tile.load(y_ptr, row0, n_rows, n_cols, y_stride, 0.0, start)
    g = tile.load(g_ptr, row0, n_rows, n_cols, g_stride, 0.0, start)
    _input_grad(tile, LOG, y, g, dot)
    tile.store(gi_ptr, g, row0, n_rows, n_cols, gi_stride, start)


@cute.jit
def _bwd_single(tile: cutlass.Constexpr, LOG: cutlass.Constexpr, y_ptr: cute.Pointer, g_ptr: cute.Pointer,
                gi_ptr: cute.Pointer, row0, n_rows, n_cols, y_stride, g_stride, gi_stride, buf):
    """The whole row in registers: y and g read once, dot reduced, gi written."""
    y = tile.load(y_ptr, row0, n_rows, n_cols, y_stride, 0.0)
    g = tile.load(g_ptr, row0, n_rows, n_cols, g_stride, 0.0)
    dot = cute.make_rmem_tensor(tile.rpt, Float32)
    for r in cutlass.range_constexpr(tile.rpt):
        acc = Float32(0.0)
        for c in cutlass.range_constexpr(tile.cpt):
            if cutlass.const_expr(LOG):
                acc += g[r, c]
            else:
                acc += g[r, c] * y[r, c]
        dot[r] = acc
    tile.row_reduce(dot, "sum", buf)
    _input_grad(tile, LOG, y, g, dot)
    tile.store(gi_ptr, g, row0, n_rows, n_cols, gi_stride)


def _tile(spec, names):
    c = spec.constants
    return RowTile(rows=c["ROWS"], block=c["BLOCK"], threads=spec.threads,
                   elem_bytes=max(elem_bytes(spec.dtypes[n]) for n in names), aligned=spec.aligned)


def _log(spec):
    return bool(spec.constants.get("LOG", spec.kernel.startswith("log_")))


def build_fwd(spec):
    LOG, SINGLE = _log(spec), bool(spec.constants["SINGLE"])
    ROWS = spec.constants["ROWS"]
    tile = _tile(spec, ("x_ptr", "y_ptr"))
    smem = tile.smem_bytes

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, y_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32,
               x_stride: Int64, y_stride: Int64):
        bidx, _, _ = cute.arch.block_idx()
        row0 = bidx * ROWS
        buf = tile.reduce_buffer()
        if cutlass.const_expr(SINGLE):
            x = tile.load(x_ptr, row0, n_rows, n_cols, x_stride, -math.inf)
            m = tile.row_reduce(tile.partial(x, "max"), "max", buf)
            total = cute.make_rmem_tensor(tile.rpt, Float32)
            for r in cutlass.range_constexpr(tile.rpt):
                acc = Float32(0.0)
                for c in cutlass.range_constexpr(tile.cpt):
                    shifted = x[r, c] - m[r]
                    e = exp(shifted)
                    acc += e
                    # keep what the output needs: the shifted logit (LOG) or its exponential
                    if cutlass.const_expr(LOG):
                        x[r, c] = shifted
                    else:
                        x[r, c] = e
                total[r] = acc
            tile.row_reduce(total, "sum", buf)
            for r in cutlass.range_constexpr(tile.rpt):
                if cutlass.const_expr(LOG):
                    log_total = cute.math.log(total[r])
                    for c in cutlass.range_constexpr(tile.cpt):
                        x[r, c] = x[r, c] - log_total
                else:
                    inv = Float32(1.0) / total[r]
                    for c in cutlass.range_constexpr(tile.cpt):
                        x[r, c] = x[r, c] * inv
            tile.store(y_ptr, x, row0, n_rows, n_cols, y_stride)
        else:
            lse = online_lse(tile, x_ptr, row0, n_rows, n_cols, x_stride, buf)
            for start in cutlass.range(0, n_cols, tile.block, unroll=1):
                _fwd_out_step(tile, LOG, x_ptr, y_ptr, row0, n_rows, n_cols, x_stride, y_stride, start, lse)

    @cute.jit
    def host(x_ptr: cute.Pointer, y_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32,
             x_stride: Int64, y_stride: Int64, grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, y_ptr, n_rows, n_cols, x_stride, y_stride).launch(
            grid=[grid_x, 1, 1], block=[tile.threads, 1, 1], smem=smem, stream=stream)

    return host, smem


def build_bwd(spec):
    LOG, SINGLE = _log(spec), bool(spec.constants["SINGLE"])
    ROWS = spec.constants["ROWS"]
    tile = _tile(spec, ("y_ptr", "g_ptr", "gi_ptr"))
    smem = tile.smem_bytes

    @cute.kernel
    def kernel(y_ptr: cute.Pointer, g_ptr: cute.Pointer, gi_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32,
               y_stride: Int64, g_stride: Int64, gi_stride: Int64):
        bidx, _, _ = cute.arch.block_idx()
        row0 = bidx * ROWS
        buf = tile.reduce_buffer()
        if cutlass.const_expr(SINGLE):
            _bwd_single(tile, LOG, y_ptr, g_ptr, gi_ptr, row0, n_rows, n_cols, y_stride, g_stride, gi_stride, buf)
        else:
            # dot: sum(g) (LOG) or sum(g * y) over the row; padding loads as 0 and adds nothing
            dot = cute.make_rmem_tensor(tile.rpt, Float32)
            dot.fill(0.0)
            for start in cutlass.range(0, n_cols, tile.block, unroll=1):
                _bwd_dot_step(tile, LOG, y_ptr, g_ptr, row0, n_rows, n_cols, y_stride, g_stride, start, dot)
            tile.row_reduce(dot, "sum", buf)
            for start in cutlass.range(0, n_cols, tile.block, unroll=1):
                _bwd_out_step(tile, LOG, y_ptr, g_ptr, gi_ptr, row0, n_rows, n_cols, y_stride, g_stride,
                              gi_stride, start, dot)

    @cute.jit
    def host(y_ptr: cute.Pointer, g_ptr: cute.Pointer, gi_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32,
             y_stride: Int64, g_stride: Int64, gi_stride: Int64, grid_x: Int32, stream: cuda.CUstream):
        kernel(y_ptr, g_ptr, gi_ptr, n_rows, n_cols, y_stride, g_stride, gi_stride).launch(
            grid=[grid_x, 1, 1], block=[tile.threads, 1, 1], smem=smem, stream=stream)

    return host, smem


KERNELS = {
    "softmax_fwd": build_fwd,
    "log_softmax_fwd": build_fwd,
    "softmax_bwd": build_bwd,
    "log_softmax_bwd": build_bwd,
}
