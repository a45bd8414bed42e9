"""diff: the n-th forward difference along a dim, after prepend and append are joined to the input."""
import numbers

from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _wrap_dim

Tensor = _C.Tensor
_ops = _C._ops


def _check_edge(name, edge, input, d):
    if not isinstance(edge, Tensor):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(edge).__name__}")
    if edge.ndim != input.ndim:
        raise RuntimeError(f"diff expects prepend or append to be the same dimension as input: input is "
                           f"{input.ndim}-D, {name} is {edge.ndim}-D")
    for i, (a, b) in enumerate(zip(input.shape, edge.shape)):
        if i != d and a != b:
            raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                               f"except along the differencing dimension; input.size({i}) = {a}, but got "
                               f"tensor.size({i}) = {b}")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """out[i] = x[i + 1] - x[i] along dim, applied n times, where x is prepend, input and append joined along
    dim; bools give x[i + 1] != x[i]."""
    if not isinstance(input, Tensor):
        raise TypeError(f"diff(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"diff(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.ndim)
    parts = []
    for name, edge in (("prepend", prepend), ("input", input), ("append", append)):
        if edge is not None:
            if edge is not input:
                _check_edge(name, edge, input, d)
            parts.append(edge)
    x = parts[0] if len(parts) == 1 else _ops.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        later, earlier = _ops.narrow(x, d, 1, size - 1), _ops.narrow(x, d, 0, size - 1)
        x = _ops.ne(later, earlier) if x.dtype is _dtype.bool else _ops.sub(later, earlier, 1)
    return x if x is not input else _ops.clone(input)
