"""The Q of a tall matrix's QR factorisation with R's diagonal positive, composed of ops (nn.init.orthogonal_).

Note [Householder QR on ops]
vibetensor has no LAPACK QR op. For an (m, n) matrix with m >= n, step k reflects column k's part from the
diagonal down, x, onto its first axis with H_k = I - 2 v v^T, v the unit vector along x - alpha e_0 and
alpha = -sign(x_0) |x| (the sign that avoids cancellation in x_0 - alpha); R's k-th diagonal entry is alpha.
Multiplying Q's column k by sign(alpha_k) gives the factorisation with R's diagonal positive, unique for a
full-rank matrix: torch.linalg.qr's Q after orthogonal_'s sign correction, up to rounding.
Blocked as LAPACK's geqrf (compact WY): the reflections of a panel of PANEL columns are applied to the panel
alone, then to the columns right of it at once as I - V T V^T (V the panel's vectors, T upper triangular),
three matmuls instead of PANEL rank-1 updates that each read the whole trailing matrix. Q's n columns are the
products applied to the first n columns of the identity, last panel first: panel j changes only rows j.. and,
of those, only columns j.. are nonzero yet. Everything stays on the matrix's device, nothing is read back to
the host.
"""
from vibetensor import _C

_ops = _C._ops

PANEL = 32


def q_with_positive_r(a):
    """Q (m, n) of a = QR for a floating (m, n) matrix with m >= n, R's diagonal made positive."""
    m, n = a.shape
    if m < n:
        raise ValueError(f"q_with_positive_r: expected a matrix with at least as many rows as columns, got {m} x {n}")
    work = _ops.clone(a)
    panels, alpha_signs = [], []
    for j in range(0, n, PANEL):
        width = min(PANEL, n - j)
        v_panel = _reflect_panel(_block(work, j, j, width), alpha_signs)
        t = _triangular_factor(v_panel)
        if j + width < n:
            trailing = _block(work, j, j + width, n - j - width)
            trailing.sub_(v_panel.matmul(t.t().matmul(v_panel.t().matmul(trailing))))
        panels.append((j, v_panel, t))
    rows = _ops.unsqueeze(_ops.arange(0, m, 1, _C.dtype.int64, a.device), 1)
    q = (rows == _ops.arange(0, n, 1, _C.dtype.int64, a.device)).to(a.dtype)
    for j, v_panel, t in reversed(panels):
        block = _block(q, j, j, n - j)
        block.sub_(v_panel.matmul(t.matmul(v_panel.t().matmul(block))))
    return q.mul_(_ops.stack(alpha_signs, 0))


def _window(matrix, row, rows, col, cols):
    """The view matrix[row:row + rows, col:col + cols]."""
    return _ops.narrow(_ops.narrow(matrix, 0, row, rows), 1, col, cols)


def _block(matrix, row, col, width):
    """The view matrix[row:, col:col + width]."""
    return _window(matrix, row, matrix.shape[0] - row, col, width)


def _reflect_panel(panel, alpha_signs):
    """Householder steps on the panel (in place, its columns become R's); returns V, whose column i is step i's
    unit vector below i zeros, and appends each step's sign of alpha to alpha_signs."""
    rows, width = panel.shape
    v_panel = _ops.full([rows, width], 0, panel.dtype, panel.device)
    tiny = 1e-300 if panel.dtype == _C.dtype.float64 else 1e-30
    for i in range(width):
        x = _block(panel, i, i, 1)
        alpha_sign = (x[0, 0] < 0).to(panel.dtype).mul_(2).sub_(1)  # -sign(x_0), with x_0 = 0 counted positive
        v = _ops.clone(x)
        _ops.narrow(v, 0, 0, 1).sub_(x.norm().mul_(alpha_sign))
        # a zero column (probability 0 for orthogonal_'s normal draws) gives v = 0: H = I, not NaNs
        v = v / v.norm().clamp(min=tiny)
        rest = _block(panel, i, i, width - i)
        rest.add_(v.matmul(v.t().matmul(rest)), alpha=-2)
        _block(v_panel, i, i, 1).copy_(v)
        alpha_signs.append(alpha_sign)
    return v_panel


def _triangular_factor(v_panel):
    """T with H_0 H_1 ... H_{b-1} = I - V T V^T for H_i = I - 2 v_i v_i^T (LAPACK's larft, forward, columnwise):
    T[:i, i] = -2 T[:i, :i] V[:, :i]^T v_i, T[i, i] = 2."""
    width = v_panel.shape[1]
    gram = v_panel.t().matmul(v_panel)
    t = _ops.full([width, width], 0, v_panel.dtype, v_panel.device)
    _window(t, 0, 1, 0, 1).fill_(2)
    for i in range(1, width):
        column = _window(t, 0, i, 0, i).matmul(_window(gram, 0, i, i, 1)).mul_(-2)
        _window(t, 0, i, i, 1).copy_(column)
        _window(t, i, 1, i, 1).fill_(2)
    return t
