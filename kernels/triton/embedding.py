"""Embedding: the gather of weight rows and its deterministic backward, the "embedding" family of the
kernel suite (vt::embedding and vt::embedding_backward on CUDA under kernels.backend=triton).

The backward is the native one's (Note [Deterministic embedding backward] in csrc/ops/cuda/embedding.cu)
with Triton doing the sums: C++ sorts the flattened indices with their positions (CUB's stable radix
sort, so positions stay ascending within an index), then
  - embedding_bwd_pieces cuts the sorted entries into pieces of PIECE; within a piece every run of equal
  indices is summed into a float32 partial row at the run's first entry. The sums are one product
  per piece, R @ G: R[j, k] = 1 where k >= j is in j's run, G the piece's gradient rows gathered by
  position, both float32 and multiplied in IEEE float32 (R's entries are 0 or 1: each row of the product
  is a sum of gradient rows, in the fixed order of the compiled product);
  - embedding_bwd_segments: the entry that starts a segment (the first of its index) adds the partials of
  the segment's pieces (its own, then each later piece that starts with the same index) and writes the
  weight row. Rows no index names stay as C++ zeroed them. Run to run the result is bitwise the same.
A bad index (outside [0, n_weights)) is never read through or written to: under CHECK the kernels
record the first in bad[0] = 1, bad[1] = index for the host to raise IndexError, as the native kernels
do under checks.cuda_index=sync; without CHECK (device_assert, where a Triton kernel cannot trap as
CUDA C++ does) the forward's row is NaN and the backward writes nothing for it.

Launch contracts (pointer dtypes: T the weight's, fp32/bf16/fp16; idx_ptr may also be *i32, the indices' own
dtype; bad_ptr is null without CHECK; out, g, gw and partial are contiguous [rows, n_cols]):

embedding_fwd (out[i, :] = w[idx[i], :]; w's columns contiguous, its rows w_stride apart; n indices,
n_weights weight rows):
    params:     w_ptr *T, idx_ptr *i64, out_ptr *T, bad_ptr *i64, n i64, n_cols i32, n_weights i64, w_stride i64
    constexprs: CHECK, ROWS, BLOCK
    grid:       (cdiv(n, ROWS), cdiv(n_cols, BLOCK))
    config:     config_embedding_fwd(n_cols) -> {ROWS, BLOCK, num_warps}
embedding_bwd_pieces (partial rows written at run starts only):
    params:     sorted_idx_ptr *i64, sorted_pos_ptr *i64, g_ptr *T, partial_ptr *fp32, n i64, n_cols i32
    constexprs: PIECE, BLOCK
    grid:       (cdiv(n, PIECE), cdiv(n_cols, BLOCK))
    config:     config_embedding_bwd_pieces(n_cols) -> {PIECE, BLOCK, num_warps}
embedding_bwd_segments (gw zeroed before):
    params:     sorted_idx_ptr *i64, partial_ptr *fp32, gw_ptr *T, bad_ptr *i64, n i64, n_cols i32, n_weights i64
    constexprs: CHECK, PIECE, BLOCK
    grid:       (n, cdiv(n_cols, BLOCK)): one program per sorted entry (most return at once)
    config:     config_embedding_bwd_segments(n_cols) -> {PIECE, BLOCK, num_warps}
"""
import triton
import triton.language as tl

from . import next_pow2

PIECE = 32  # sorted entries per piece (csrc/ops/cuda/embedding.cu's kPiece)
_TILE = 4096  # elements of a program's [rows, columns] tile


def _column_block(n_cols):
    return max(16, min(512, next_pow2(n_cols)))


def config_embedding_fwd(n_cols):
    block = _column_block(n_cols)
    return {"ROWS": max(1, _TILE // block), "BLOCK": block, "num_warps": 4}


def config_embedding_bwd_pieces(n_cols):
    return {"PIECE": PIECE, "BLOCK": min(128, _column_block(n_cols)), "num_warps": 4}


def config_embedding_bwd_segments(n_cols):
    # one weight row per program: four columns a thread, so its loads and stores are vector ones
    block = _column_block(n_cols)
    return {"PIECE": PIECE, "BLOCK": block, "num_warps": max(1, block // 128)}


@triton.jit
def _record_bad(bad_ptr, index, bad):
    # bad[0] = 1 and bad[1] = a bad index, for the host to raise IndexError (Note [CUDA index checks])
    tl.atomic_xchg(bad_ptr + 1 + 0 * index, index, mask=bad)
    tl.atomic_max(bad_ptr + 0 * index, 1 + 0 * index, mask=bad)


@triton.jit
def _embedding_fwd(w_ptr, idx_ptr, out_ptr, bad_ptr, n, n_cols, n_weights, w_stride,
                   CHECK: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    in_view = rows < n
    index = tl.load(idx_ptr + rows, mask=in_view, other=0).to(tl.int64)
    ok = (index >= 0) & (index < n_weights)
    cmask = cols < n_cols
    x = tl.load(w_ptr + index[:, None] * w_stride + cols[None, :], mask=(in_view & ok)[:, None] & cmask[None, :],
                other=float("nan"))
    tl.store(out_ptr + rows[:, None] * n_cols + cols[None, :], x.to(out_ptr.dtype.element_ty),
             mask=in_view[:, None] & cmask[None, :])
    if CHECK:
        if tl.program_id(1) == 0:
            _record_bad(bad_ptr, index, in_view & ~ok)


@triton.jit
def _embedding_bwd_pieces(sorted_idx_ptr, sorted_pos_ptr, g_ptr, partial_ptr, n, n_cols,
                          PIECE: tl.constexpr, BLOCK: tl.constexpr):
    start = tl.program_id(0).to(tl.int64) * PIECE
    j = start + tl.arange(0, PIECE)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    in_view = j < n
    cmask = cols < n_cols
    index = tl.load(sorted_idx_ptr + j, mask=in_view, other=-1)
    pos = tl.load(sorted_pos_ptr + j, mask=in_view, other=0)
    g = tl.load(g_ptr + pos[:, None] * n_cols + cols[None, :], mask=in_view[:, None] & cmask[None, :],
                other=0.0).to(tl.float32)
    # R[a, b] = 1 where entry b is in entry a's run and not before it (the indices are sorted: equal
    # indices inside one piece are one run); row a of R @ G is the run's sum from a on.
    k = tl.arange(0, PIECE)
    r = ((k[None, :] >= k[:, None]) & (index[None, :] == index[:, None]) & in_view[None, :]).to(tl.float32)
    sums = tl.dot(r, g, input_precision="ieee")
    prev = tl.load(sorted_idx_ptr + j - 1, mask=in_view & (k > 0), other=-1)
    run_start = in_view & ((k == 0) | (prev != index))
    tl.store(partial_ptr + j[:, None] * n_cols + cols[None, :], sums, mask=run_start[:, None] & cmask[None, :])


@triton.jit
def _embedding_bwd_segments(sorted_idx_ptr, partial_ptr, gw_ptr, bad_ptr, n, n_cols, n_weights,
                            CHECK: tl.constexpr, PIECE: tl.constexpr, BLOCK: tl.constexpr):
    j = tl.program_id(0).to(tl.int64)
    index = tl.load(sorted_idx_ptr + j)
    prev = tl.load(sorted_idx_ptr + tl.maximum(j - 1, 0))
    if (j == 0) | (prev != index):  # the first entry of its segment
        if (index >= 0) & (index < n_weights):
            cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
            cmask = cols < n_cols
            acc = tl.load(partial_ptr + j * n_cols + cols, mask=cmask, other=0.0)
            k = (j // PIECE + 1) * PIECE
            go = (k < n) & (tl.load(sorted_idx_ptr + tl.minimum(k, n - 1)) == index)
            while go:
                acc += tl.load(partial_ptr + k * n_cols + cols, mask=cmask, other=0.0)
                k += PIECE
                go = (k < n) & (tl.load(sorted_idx_ptr + tl.minimum(k, n - 1)) == index)
            tl.store(gw_ptr + index * n_cols + cols, acc.to(gw_ptr.dtype.element_ty), mask=cmask)
        elif CHECK:
            if tl.program_id(1) == 0:
                tl.atomic_xchg(bad_ptr + 1, index)
                tl.atomic_max(bad_ptr, 1)


KERNELS = {"embedding_fwd": _embedding_fwd, "embedding_bwd_pieces": _embedding_bwd_pieces,
           "embedding_bwd_segments": _embedding_bwd_segments}
