"""torch.nn.functional.interpolate for 1-d and 2-d spatial inputs (modes nearest, nearest-exact, linear,
bilinear; align_corners), separable: each spatial dim is resampled with index_select and, for the
linear modes, a blend of two gathered neighbours with per-position weights computed on the host with
torch's formulas. Autograd comes from the ops (index_select's backward accumulates with index_add)."""
import math
import numbers

import numpy as np

from vibetensor import _factories

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2}


def _source(out_size, in_size, scale, mode, align_corners):
    """(i0, i1, w1) per output position: neighbours and the weight of i1 (nearest: i0 == i1, w1 = 0)."""
    dst = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        ratio = (1.0 / scale) if scale else in_size / out_size
        src = np.floor((dst + 0.5) * ratio if mode == "nearest-exact" else dst * ratio)
        i0 = np.minimum(src.astype(np.int64), in_size - 1)
        return i0, i0, None
    if align_corners:
        ratio = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = dst * ratio
    else:
        ratio = (1.0 / scale) if scale else in_size / out_size
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, (src - i0).astype(np.float32)


def _resample(x, dim, out_size, scale, mode, align_corners):
    i0, i1, w1 = _source(out_size, x.shape[dim], scale, mode, align_corners)
    idx0 = _factories.tensor(i0, device=x.device)
    a = x.index_select(dim, idx0)
    if w1 is None:
        return a
    b = x.index_select(dim, _factories.tensor(i1, device=x.device))
    shape = [1] * x.dim()
    shape[dim] = out_size
    w = _factories.tensor(w1, device=x.device, dtype=x.dtype).reshape(shape)
    return a + (b - a) * w


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by vibetensor (expected one of "
                                  f"{sorted(_MODES)})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by vibetensor")
    spatial = input.dim() - 2
    if spatial not in (1, 2) or (mode == "linear" and spatial != 1) or (mode == "bilinear" and spatial != 2):
        raise ValueError(f"interpolate: mode {mode!r} with an input of {input.dim()} dims is not supported (expected "
                         "(N, C, L) for nearest / linear, (N, C, H, W) for nearest / bilinear)")
    if mode.startswith("nearest") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = list(input.shape[2:])
    if size is not None:
        sizes = [int(size)] * spatial if isinstance(size, numbers.Integral) else [int(s) for s in size]
        scales = [None] * spatial
    else:
        scales = [float(scale_factor)] * spatial if isinstance(scale_factor, numbers.Real) else \
            [float(s) for s in scale_factor]
        sizes = [int(math.floor(n * s)) for n, s in zip(in_sizes, scales)]
        if recompute_scale_factor:
            scales = [None] * spatial
    if len(sizes) != spatial or min(sizes) <= 0:
        raise ValueError(f"interpolate: expected {spatial} positive output sizes, got {sizes}")
    out = input
    for k in range(spatial):
        out = _resample(out, 2 + k, sizes[k], scales[k], mode, bool(align_corners))
    return out
