"""F.pixel_shuffle and F.pixel_unshuffle: (*, C * r^2, H, W) <-> (*, C, H * r, W * r), each a reshape, a
permute and a reshape (a copy), so autograd and every device come from those ops."""
from vibetensor import _C

_ops = _C._ops


def _check(input, factor, fn, name):
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise TypeError(f"{fn}: {name} must be an int, got {type(factor).__name__}")
    if input.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           "dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{fn} expects a positive {name}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """Moves each block of r^2 channels into an r x r patch of pixels (r = upscale_factor)."""
    _check(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    r = upscale_factor
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(batch)
    x = _ops.reshape(input, batch + [c // (r * r), r, r, h, w])
    x = _ops.permute(x, list(range(nb)) + [nb + i for i in (0, 3, 1, 4, 2)])  # [*, C, H, r, W, r]
    return _ops.reshape(x, batch + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    """pixel_shuffle's inverse: each r x r patch of pixels becomes r^2 channels (r = downscale_factor)."""
    _check(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    r = downscale_factor
    *batch, c, h, w = input.shape
    for side, n, d in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but "
                               f"input.size({d})={n} is not divisible by {r}")
    nb = len(batch)
    x = _ops.reshape(input, batch + [c, h // r, r, w // r, r])
    x = _ops.permute(x, list(range(nb)) + [nb + i for i in (0, 2, 4, 1, 3)])  # [*, C, r, r, H/r, W/r]
    return _ops.reshape(x, batch + [c * r * r, h // r, w // r])
