"""Cross-entropy of logits [n_rows, vocab] (row-major view, last dim contiguous) against int64 class
targets, forward (per-row loss and log-sum-exp) and backward (dlogits), with ignore_index; vocab up to
262144 and beyond (online log-sum-exp past 8192 columns).

What the kernels leave to the C++ caller: the reduction. Forward writes loss[r] = lse[r] - x[r, t[r]]
(0 where t[r] == ignore_index); 'none' returns loss, 'sum' sums it, 'mean' divides the sum by the
number of rows with t[r] != ignore_index (NaN when there are none, as torch). A target outside
[0, vocab) that is not ignore_index is never read through: its row's loss and lse are NaN, and with
CHECK the kernel records it in bad[0] = 1, bad[1] = the target, for the host to raise IndexError
(Note [Cross-entropy bad targets] in csrc/ops/cuda/cross_entropy_suite.cpp).
Backward scales row r by grad_r = dloss[r * dloss_stride] * scale: 'none' passes the loss gradient
with dloss_stride 1 and scale 1; 'sum' passes the scalar gradient with dloss_stride 0 and scale 1;
'mean' passes it with dloss_stride 0 and scale 1 / count (or a device scalar already divided by the
count, scale 1). Label smoothing and class weights are not supported.

Launch contracts (``*T`` is a pointer whose pointee dtype is the logits', fp32/bf16/fp16; dlogits has
T; strides are in elements; target, loss, lse are contiguous [n_rows]):
Each kernel is compiled generic and aligned (tt.divisibility 16 on pointers, *_stride, n_cols / n;
kernels.triton.aligned_param); the launcher picks by the arguments (kernels/triton/__init__.py).

cross_entropy_fwd:
    params:     logits *T, target *i64, loss *fp32, lse *fp32, bad *i64, n_rows i32, n_cols i32,
                logits_stride i64, ignore_index i64
    constexprs: CHECK, ROWS, BLOCK, SINGLE
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_cross_entropy_fwd(n_cols) -> {ROWS, BLOCK, SINGLE, num_warps}
                = kernels.triton.row_config(n_cols)

cross_entropy_bwd (dlogits = (exp(logits - lse) - onehot(target)) * grad_r; 0 on ignored rows; dlogits
may alias logits):
    params:     logits *T, target *i64, lse *fp32, dloss *fp32, dlogits *T, n_rows i32, n_cols i32,
                logits_stride i64, dlogits_stride i64, dloss_stride i64, ignore_index i64, scale fp32
    constexprs: ROWS, BLOCK
    grid:       (cdiv(n_rows, ROWS),)
    config:     config_cross_entropy_bwd(n_cols) -> {ROWS, BLOCK, num_warps}: row_config(n_cols) without
                SINGLE (the kernel walks BLOCK-column steps, once when BLOCK >= n_cols)
"""
import triton
import triton.language as tl

from . import row_config
from ._tiles import row_starts, tile_rows
from .softmax import looped_lse


@triton.jit
def _cross_entropy_fwd(x_ptr, target_ptr, loss_ptr, lse_ptr, bad_ptr, n_rows, n_cols, x_stride, ignore_index,
                       CHECK: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    in_view = rows < n_rows
    x_row = x_ptr + rows.to(tl.int64) * x_stride
    x_rows = x_row[:, None]
    cols = tl.arange(0, BLOCK)[None, :]
    if SINGLE:
        x = tl.load(x_rows + cols, mask=in_view[:, None] & (cols < n_cols), other=-float("inf")).to(tl.float32)
        m = tl.max(x, axis=1)
        lse = m + tl.log(tl.sum(tl.exp(x - m[:, None]), axis=1))
    else:
        lse = looped_lse(x_rows, cols, in_view[:, None], n_cols, ROWS, BLOCK)
    target = tl.load(target_ptr + rows, mask=in_view, other=ignore_index)
    in_range = (target >= 0) & (target < n_cols)
    bad = in_view & (target != ignore_index) & (~in_range)
    counted = in_view & (target != ignore_index) & in_range
    x_target = tl.load(x_row + target, mask=counted, other=0.0).to(tl.float32)
    loss = tl.where(counted, lse - x_target, 0.0)
    tl.store(loss_ptr + rows, tl.where(bad, float("nan"), loss), mask=in_view)
    tl.store(lse_ptr + rows, tl.where(bad, float("nan"), lse), mask=in_view)
    if CHECK:
        tl.atomic_xchg(bad_ptr + 1 + 0 * rows, target, mask=bad)
        tl.atomic_max(bad_ptr + 0 * rows, 1 + 0 * target, mask=bad)


@triton.jit
def _cross_entropy_bwd(x_ptr, target_ptr, lse_ptr, dloss_ptr, dx_ptr, n_rows, n_cols, x_stride, dx_stride,
                       dloss_stride, ignore_index, scale, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    in_view = rows < n_rows
    row_mask = in_view[:, None]
    x_rows = row_starts(x_ptr, rows, x_stride)
    dx_rows = row_starts(dx_ptr, rows, dx_stride)
    target = tl.load(target_ptr + rows, mask=in_view, other=ignore_index)
    counted = in_view & (target != ignore_index)
    grad = tl.load(dloss_ptr + rows.to(tl.int64) * dloss_stride, mask=counted, other=0.0) * scale
    grad = tl.where(counted, grad, 0.0)[:, None]  # ignored rows give 0 even for a NaN / inf gradient
    lse = tl.load(lse_ptr + rows, mask=in_view, other=0.0)[:, None]
    target = target[:, None]
    cols = tl.arange(0, BLOCK)[None, :]
    for start in range(0, n_cols, BLOCK):
        mask = row_mask & (start + cols < n_cols)
        x = tl.load(x_rows + start + cols, mask=mask, other=0.0).to(tl.float32)
        p = tl.exp(x - lse) - tl.where(start + cols == target, 1.0, 0.0)
        tl.store(dx_rows + start + cols, (p * grad).to(dx_ptr.dtype.element_ty), mask=mask)


def config_cross_entropy_fwd(n_cols):
    return row_config(n_cols)


def config_cross_entropy_bwd(n_cols):
    c = row_config(n_cols)
    del c["SINGLE"]
    return c


KERNELS = {
    "cross_entropy_fwd": _cross_entropy_fwd,
    "cross_entropy_bwd": _cross_entropy_bwd,
}
