"""hstack, vstack, dstack, column_stack and the atleast_Nd views they raise their inputs to: numpy's stacking
along the first, second or third dim, as cat of reshaped views (cat promotes mixed dtypes)."""
from vibetensor import _C

Tensor = _C.Tensor
_ops = _C._ops


def _tensor_list(fn, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' must be a tuple or list of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _at_least(tensors, shape_of):
    out = tuple(t if shape_of(t) is None else _ops.reshape(t, shape_of(t)) for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    """Each tensor with at least one dim: a 0-D one becomes shape [1]."""
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    return _at_least(tensors, lambda t: [1] if t.ndim == 0 else None)


def atleast_2d(*tensors):
    """Each tensor with at least two dims: shape [] becomes [1, 1], [n] becomes [1, n]."""
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    return _at_least(tensors, lambda t: [1, 1] if t.ndim == 0 else [1, t.shape[0]] if t.ndim == 1 else None)


def atleast_3d(*tensors):
    """Each tensor with at least three dims: [] becomes [1, 1, 1], [n] becomes [1, n, 1], [m, n] becomes
    [m, n, 1]."""
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors

    def shape_of(t):
        return [1, 1, 1] if t.ndim == 0 else [1, t.shape[0], 1] if t.ndim == 1 else \
            [t.shape[0], t.shape[1], 1] if t.ndim == 2 else None
    return _at_least(tensors, shape_of)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def hstack(tensors):
    """The tensors joined along dim 1 (dim 0 when they are 1-D or 0-D: numpy's horizontal)."""
    tensors = _as_tuple(atleast_1d(_tensor_list("hstack", tensors)))
    return _ops.cat(list(tensors), 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """The tensors joined along dim 0, 1-D and 0-D ones as rows."""
    return _ops.cat(list(_as_tuple(atleast_2d(_tensor_list("vstack", tensors)))), 0)


row_stack = vstack


def dstack(tensors):
    """The tensors joined along dim 2 (depth), raised to 3 dims first."""
    return _ops.cat(list(_as_tuple(atleast_3d(_tensor_list("dstack", tensors)))), 2)


def column_stack(tensors):
    """The tensors joined along dim 1, 0-D and 1-D ones as columns."""
    tensors = _tensor_list("column_stack", tensors)
    return _ops.cat([_ops.reshape(t, [t.numel(), 1]) if t.ndim <= 1 else t for t in tensors], 1)
