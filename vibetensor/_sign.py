"""sign and heaviside: the step functions of each element's sign."""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor._pointwise_derivatives import pointwise

Tensor = _C.Tensor
_ops = _C._ops


def _sign_value(x):
    if x.dtype is _dtype.bool:
        return _ops.clone(x)
    # (x > 0) - (x < 0): 0 for 0, -0 and nan, as torch's sign
    return _ops.sub(_ops.to_dtype(_ops.gt(x, 0), x.dtype), _ops.to_dtype(_ops.lt(x, 0), x.dtype), 1)


# A Function rather than the comparisons alone: torch's sign has a gradient (0), so backward through it works.
_sign = pointwise("Sign", _sign_value, lambda g, x: _ops.mul(g, 0))


def sign(input):
    """-1, 0 or 1 by the sign of each element (bools are returned as they are)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sign(): argument 'input' must be Tensor, not {type(input).__name__}")
    return _sign(input)


sgn = sign  # torch.sgn: sign for real tensors


def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0 (and 0 for nan). Not differentiable, as in
    torch: the result has no gradient."""
    for name, t in (("input", input), ("values", values)):
        if not isinstance(t, Tensor):
            raise TypeError(f"heaviside(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.dtype is not values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes: input is "
                           f"{input.dtype}, values is {values.dtype}")
    positive = _ops.gt(input, 0)
    step = positive if input.dtype is _dtype.bool else _ops.to_dtype(positive, input.dtype)
    return _ops.where(_ops.eq(input, 0), values.detach(), step)
