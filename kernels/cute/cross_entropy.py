"""Cross-entropy of logits [n_rows, vocab] against int64 targets, forward (per-row loss and lse) and
backward (dlogits): CuTe DSL kernels with the launch contracts of kernels/triton/cross_entropy.py
(same parameters in order, constexprs, grid (cdiv(n_rows, ROWS),), 32 * num_warps threads), and its
semantics: ignore_index rows give loss 0 (lse still written) and dlogits 0; a target outside
[0, vocab) that is not ignore_index is never read through, gives NaN loss and lse and, with CHECK,
bad[0] = 1, bad[1] = the target (plain stores by the threads that found one: any bad target is an
acceptable report); backward scales row r by dloss[r * dloss_stride] * scale; dlogits may alias logits
(each element is read, then written, by the same thread).
"""
import math

import cuda.bindings.driver as cuda
import cutlass
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

from ._rows import RowTile, elem_bytes, load_scalar, store_scalar
from .softmax import exp, online_lse


def _tile(spec, names):
    c = spec.constants
    return RowTile(rows=c["ROWS"], block=c["BLOCK"], threads=spec.threads,
                   elem_bytes=max(elem_bytes(spec.dtypes[n]) for n in names), aligned=spec.aligned)


@cute.jit
def _single_lse(tile: cutlass.Constexpr, x_ptr: cute.Pointer, row0, n_rows, n_cols, x_stride, buf):
    """log(sum(exp(x))) of the thread's row slots, the rows held in registers (rmem [rpt])."""
    x = tile.load(x_ptr, row0, n_rows, n_cols, x_stride, -math.inf)
    m = tile.row_reduce(tile.partial(x, "max"), "max", buf)
    s = cute.make_rmem_tensor(tile.rpt, Float32)
    for r in cutlass.range_constexpr(tile.rpt):
        acc = Float32(0.0)
        for c in cutlass.range_constexpr(tile.cpt):
            acc += exp(x[r, c] - m[r])
        s[r] = acc
    tile.row_reduce(s, "sum", buf)
    for r in cutlass.range_constexpr(tile.rpt):
        s[r] = m[r] + cute.math.log(s[r])
    return s


@cute.jit
def _fwd_rows(tile: cutlass.Constexpr, CHECK: cutlass.Constexpr, x_ptr: cute.Pointer, target_ptr: cute.Pointer,
              loss_ptr: cute.Pointer, lse_ptr: cute.Pointer, bad_ptr: cute.Pointer, row0, n_rows, n_cols,
              x_stride, ignore_index, lse):
    """The first thread of each row (all of them hold its lse) reads the target and writes loss and lse."""
    tidx, _, _ = cute.arch.thread_idx()
    for r in cutlass.range_constexpr(tile.rpt):
        if tile.row_valid(r, row0, n_rows) & (tidx % tile.tpr == 0):
            row = Int64(row0 + tile.row(r))
            t = load_scalar(target_ptr, row)
            loss = Float32(0.0)
            out_lse = lse[r]
            if t != ignore_index:
                if (t >= 0) & (t < Int64(n_cols)):
                    loss = lse[r] - load_scalar(x_ptr, row * x_stride + t).to(Float32)
                else:
                    loss = Float32(math.nan)
                    out_lse = Float32(math.nan)
                    if cutlass.const_expr(CHECK):
                        store_scalar(bad_ptr, 1, t)
                        store_scalar(bad_ptr, 0, Int64(1))
            store_scalar(loss_ptr, row, loss)
            store_scalar(lse_ptr, row, out_lse)


def build_fwd(spec):
    c = spec.constants
    CHECK, ROWS, SINGLE = bool(c["CHECK"]), c["ROWS"], bool(c["SINGLE"])
    tile = _tile(spec, ("x_ptr",))
    smem = tile.smem_bytes

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, target_ptr: cute.Pointer, loss_ptr: cute.Pointer, lse_ptr: cute.Pointer,
               bad_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64, ignore_index: Int64):
        bidx, _, _ = cute.arch.block_idx()
        row0 = bidx * ROWS
        buf = tile.reduce_buffer()
        if cutlass.const_expr(SINGLE):
            lse = _single_lse(tile, x_ptr, row0, n_rows, n_cols, x_stride, buf)
        else:
            lse = online_lse(tile, x_ptr, row0, n_rows, n_cols, x_stride, buf)
        _fwd_rows(tile, CHECK, x_ptr, target_ptr, loss_ptr, lse_ptr, bad_ptr, row0, n_rows, n_cols, x_stride,
                  ignore_index, lse)

    @cute.jit
    def host(x_ptr: cute.Pointer, target_ptr: cute.Pointer, loss_ptr: cute.Pointer, lse_ptr: cute.Pointer,
             bad_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64, ignore_index: Int64,
             grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, target_ptr, loss_ptr, lse_ptr, bad_ptr, n_rows, n_cols, x_stride, ignore_index).launch(
            grid=[grid_x, 1, 1], block=[tile.threads, 1, 1], smem=smem, stream=stream)

    return host, smem


@cute.jit
def _bwd_row_stats(tile: cutlass.Constexpr, target_ptr: cute.Pointer, lse_ptr: cute.Pointer,
                   dloss_ptr: cute.Pointer, row0, n_rows, dloss_stride, ignore_index, scale, tgt, lse, grad):
    """Per row slot: the target (ignore_index past n_rows), lse (0 there) and the row's gradient scale
    dloss[row * dloss_stride] * scale, 0 on ignored rows even for a NaN / inf dloss."""
    for r in cutlass.range_constexpr(tile.rpt):
        tgt[r] = ignore_index
        lse[r] = Float32(0.0)
        grad[r] = Float32(0.0)
        if tile.row_valid(r, row0, n_rows):
            row = Int64(row0 + tile.row(r))
            t = load_scalar(target_ptr, row)
            tgt[r] = t
            lse[r] = load_scalar(lse_ptr, row)
            if t != ignore_index:
                grad[r] = load_scalar(dloss_ptr, row * dloss_stride) * scale


@cute.jit
def _bwd_step(tile: cutlass.Constexpr, x_ptr: cute.Pointer, dx_ptr: cute.Pointer, row0, n_rows, n_cols,
              x_stride, dx_stride, start, tgt, lse, grad):
    """dx = (exp(x - lse) - onehot(target)) * grad on one BLOCK-column step."""
    x = tile.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0, start)
    for r in cutlass.range_constexpr(tile.rpt):
        for c in cutlass.range_constexpr(tile.cpt):
            p = exp(x[r, c] - lse[r])
            if Int64(start + tile.col(c)) == tgt[r]:
                p = p - Float32(1.0)
            x[r, c] = p * grad[r]
    tile.store(dx_ptr, x, row0, n_rows, n_cols, dx_stride, start)


def build_bwd(spec):
    ROWS = spec.constants["ROWS"]
    tile = _tile(spec, ("x_ptr", "dx_ptr"))
    smem = 0  # no row reductions

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, target_ptr: cute.Pointer, lse_ptr: cute.Pointer, dloss_ptr: cute.Pointer,
               dx_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64, dx_stride: Int64,
               dloss_stride: Int64, ignore_index: Int64, scale: Float32):
        bidx, _, _ = cute.arch.block_idx()
        row0 = bidx * ROWS
        tgt = cute.make_rmem_tensor(tile.rpt, Int64)
        lse = cute.make_rmem_tensor(tile.rpt, Float32)
        grad = cute.make_rmem_tensor(tile.rpt, Float32)
        _bwd_row_stats(tile, target_ptr, lse_ptr, dloss_ptr, row0, n_rows, dloss_stride, ignore_index, scale,
                       tgt, lse, grad)
        # one step when BLOCK >= n_cols (the whole row in registers)
        for start in cutlass.range(0, n_cols, tile.block, unroll=1):
            _bwd_step(tile, x_ptr, dx_ptr, row0, n_rows, n_cols, x_stride, dx_stride, start, tgt, lse, grad)

    @cute.jit
    def host(x_ptr: cute.Pointer, target_ptr: cute.Pointer, lse_ptr: cute.Pointer, dloss_ptr: cute.Pointer,
             dx_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64, dx_stride: Int64,
             dloss_stride: Int64, ignore_index: Int64, scale: Float32, grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, target_ptr, lse_ptr, dloss_ptr, dx_ptr, n_rows, n_cols, x_stride, dx_stride, dloss_stride,
               ignore_index, scale).launch(grid=[grid_x, 1, 1], block=[tile.threads, 1, 1], smem=smem,
                                           stream=stream)

    return host, smem


KERNELS = {
    "cross_entropy_fwd": build_fwd,
    "cross_entropy_bwd": build_bwd,
}
