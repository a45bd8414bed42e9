"""F.pad: constant (any number of dims, negative pads crop), reflect, replicate and circular padding, composed
of narrow, cat and index_select so autograd flows through them and every device runs them."""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories

_ops = _C._ops

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(n, left, right, mode):
    """For each output position along a dim, the input position it copies (reflect / replicate / circular)."""
    out = []
    for j in range(-left, n + right):
        if mode == "replicate":
            out.append(min(max(j, 0), n - 1))
        elif mode == "circular":
            out.append(j % n)
        else:  # reflect: mirror about the edges without repeating them
            period = 2 * (n - 1)
            k = j % period if period else 0
            out.append(k if k < n else period - k)
    return out


def _pad_constant(x, d, left, right, value):
    if left < 0:
        x, left = _ops.narrow(x, d, -left, x.shape[d] + left), 0
    if right < 0:
        x, right = _ops.narrow(x, d, 0, x.shape[d] + right), 0
    if left == 0 and right == 0:
        return x
    def block(width):
        shape = list(x.shape)
        shape[d] = width
        return _ops.full(shape, value, x.dtype, x.device)
    return _ops.cat(([block(left)] if left else []) + [x] + ([block(right)] if right else []), d)


def pad(input, pad, mode="constant", value=None):
    """pad = (left_last, right_last, left_second_last, right_second_last, ...), as torch.nn.functional.pad."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2, got {len(pad)} ({pad})")
    n_dims = len(pad) // 2
    if n_dims > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}: expected one of {_MODES}")
    if mode == "constant":
        fill = 0 if value is None else value
        x = input
        for i in range(n_dims):
            x = _pad_constant(x, input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1], fill)
        return x if x is not input else _ops.clone(input)
    if value not in (None, 0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if not n_dims + 1 <= input.ndim <= n_dims + 2:
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now: "
                                  f"padding {n_dims} dims ({mode}) takes a {n_dims + 1}-D or {n_dims + 2}-D input, got "
                                  f"{input.ndim}-D")
    x = input
    for i in range(n_dims):
        d = input.ndim - 1 - i
        n, left, right = x.shape[d], pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                               f"got: padding ({left}, {right}) at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (left > n or right > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once: padding ({left}, {right}) at "
                               f"dimension {d} of size {n}")
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"replicate padding of an empty dimension {d} of input {list(input.shape)}")
        index = _factories.tensor(_source_index(n, left, right, mode), dtype=_dtype.int64, device=x.device)
        x = _ops.index_select(x, d, index)
    return x
