"""lerp: linear interpolation start + weight * (end - start), with torch's dtype rules and its two-sided
formula."""
import numbers

from vibetensor import _C

Tensor = _C.Tensor
_ops = _C._ops


def lerp(input, end, weight):
    """input + weight * (end - input); weight is a number or a tensor, all three broadcast.

    As torch's kernel: where |weight| >= 1/2 the result is end - (end - input) * (1 - weight), so weight 1 gives
    end exactly (input + 1 * (end - input) need not)."""
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise TypeError(f"lerp(): input and end must be Tensors, got {type(input).__name__} and {type(end).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"lerp(): expected a floating point input, got {input.dtype}")
    if end.dtype is not input.dtype:
        raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor):
        if weight.ndim > 0 and weight.dtype is not input.dtype:
            raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
        if weight.dtype is not input.dtype:  # a 0-d weight of another dtype is a number (torch's wrapped scalar)
            weight = _ops.to_dtype(weight, input.dtype)
    elif not isinstance(weight, numbers.Real):
        raise TypeError(f"lerp(): weight must be a number or a Tensor, not {type(weight).__name__}")
    diff = _ops.sub(end, input, 1)
    if not isinstance(weight, Tensor):
        return _ops.add(input, _ops.mul(diff, weight), 1) if abs(weight) < 0.5 else \
            _ops.sub(end, _ops.mul(diff, 1 - weight), 1)
    low = _ops.add(input, _ops.mul(diff, weight), 1)
    high = _ops.sub(end, _ops.mul(diff, _ops.sub(1, weight, 1)), 1)
    return _ops.where(_ops.lt(_ops.abs(weight), 0.5), low, high)
