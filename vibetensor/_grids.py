"""meshgrid and cartesian_prod: the coordinate grids of 1-D tensors, as broadcast views and as rows."""
from vibetensor import _C

Tensor = _C.Tensor
_ops = _C._ops


def _vectors(fn, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument {i} must be Tensor, not {type(t).__name__}")
        if t.ndim > 1:
            raise RuntimeError(f"{fn}: expected 0D or 1D tensors, but tensor {i} has shape {list(t.shape)}")
    first = tensors[0]
    for t in tensors[1:]:
        if t.dtype is not first.dtype:
            raise RuntimeError(f"{fn} expects all tensors to have the same dtype, got {first.dtype} and {t.dtype}")
        if t.device != first.device:
            raise RuntimeError(f"{fn} expects all tensors to have the same device, got {first.device} and {t.device}")
    return tensors


def meshgrid(*tensors, indexing=None):
    """Grids of coordinates: output i holds tensors[i] along its dim i (indexing="ij", torch's default) and is
    constant along the others; indexing="xy" swaps the roles of the first two dims (numpy's, for images).
    The outputs are expanded views."""
    tensors = _vectors("meshgrid", tensors)
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0  # tensor 0 varies along dim 1, tensor 1 along dim 0
    sizes = [1] * len(tensors)
    for t, axis in zip(tensors, axes):
        sizes[axis] = t.numel()
    grids = []
    for t, axis in zip(tensors, axes):
        shape = [1] * len(tensors)
        shape[axis] = t.numel()
        grids.append(_ops.expand(_ops.reshape(t, shape), sizes))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as the rows of a matrix (in itertools.product's
    order); one tensor is returned as it is."""
    tensors = _vectors("cartesian_prod", tensors)
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expected 1D vectors, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return _ops.stack([_ops.flatten(g, 0, -1) for g in meshgrid(*tensors, indexing="ij")], 1)
