"""trunc and frac: the integer part of each element (rounded toward zero) and what is left of it.

vibetensor has no trunc op; div_rounded(x, 1, "trunc") is one (it rounds the quotient toward zero), and its
gradient is 0, as trunc's is."""
from vibetensor import _C
from vibetensor import _dtype

Tensor = _C.Tensor
_ops = _C._ops


def _check(fn, input, integers_ok):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype is _dtype.bool or (not integers_ok and not input.dtype.is_floating_point):
        raise TypeError(f"{fn}(): expected a floating point{' or integer' if integers_ok else ''} tensor, got "
                        f"{input.dtype}")


def trunc(input):
    """Each element rounded toward zero; integers are returned as they are (a copy)."""
    _check("trunc", input, integers_ok=True)
    if not input.dtype.is_floating_point:
        return _ops.clone(input)
    return _ops.div_rounded(input, _ops.full([], 1, input.dtype, input.device), "trunc")


fix = trunc


def frac(input):
    """input - trunc(input): the fractional part, with input's sign (nan for infinities, as in torch)."""
    _check("frac", input, integers_ok=False)
    return _ops.sub(input, trunc(input), 1)
