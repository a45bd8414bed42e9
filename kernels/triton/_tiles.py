"""Row-tile helpers shared by the row kernels of the suite (inlined by Triton into each kernel)."""
import triton
import triton.language as tl

# Note [Row tiles and the looped path]
# Every row kernel of the suite works on a [ROWS, BLOCK] tile: ROWS rows of one program, BLOCK
# columns. With SINGLE the whole row fits one BLOCK, is loaded once and kept in registers for the
# reductions and the store. Without it (n_cols > 8192, ROWS = 1) the kernel walks the row in BLOCK
# steps: forward softmax keeps a running max and a sum rescaled whenever the max grows (online
# log-sum-exp), so it reads the row twice (statistics, then output) instead of three times.
# Rows past n_rows are masked; their reductions see -inf / 0 fills and may be NaN, never stored.


@triton.jit
def tile_rows(tile, n_rows, ROWS: tl.constexpr):
    """The ROWS row indices of row tile `tile` and the [ROWS, 1] mask of those inside the view."""
    rows = tile * ROWS + tl.arange(0, ROWS)
    return rows, rows[:, None] < n_rows


@triton.jit
def row_starts(ptr, rows, stride):
    """[ROWS, 1] pointers to the first element of each row; int64 offsets so views past 2^31 elements work."""
    return ptr + rows.to(tl.int64)[:, None] * stride
