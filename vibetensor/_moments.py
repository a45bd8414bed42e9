"""std_mean and var_mean: the spread and the mean over the same dims in one call, with var's argument forms
(dim, unbiased or correction, keepdim)."""
from vibetensor import _C
from vibetensor._functional import _correction, _dims

Tensor = _C.Tensor
_ops = _C._ops


def _var_and_mean(fn, input, dim, unbiased, keepdim, correction):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fn} only supports floating point dtypes, got {input.dtype}")
    dim, correction = _correction(dim, unbiased, correction, fn)
    return _ops.var(input, _dims(dim), correction, keepdim), _ops.mean(input, _dims(dim), keepdim, None)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim (all dims by default): var(input, ...) and mean(input, dim, keepdim)."""
    return _var_and_mean("var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim (all dims by default): std(input, ...) and mean(input, dim, keepdim)."""
    var, mean = _var_and_mean("std_mean", input, dim, unbiased, keepdim, correction)
    return _ops.sqrt(var), mean
