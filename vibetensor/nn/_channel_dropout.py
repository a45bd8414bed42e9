"""Channel-wise dropout (torch.nn.functional.dropout1d / 2d / 3d, torch's feature dropout): each channel
of each sample is zeroed whole with probability p, the rest scaled by 1 / (1 - p). The mask, one value per
(sample, channel), comes from the dropout op on ones, so it follows the dropout op's generator."""
import warnings

from vibetensor import _C

_ops = _C._ops


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _feature_dropout(input, p, training, inplace):
    if input.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got {input.ndim}")
    if not training or p == 0 or input.numel() == 0:
        return input
    shape = list(input.shape[:2]) + [1] * (input.ndim - 2)
    mask = _ops.dropout(_ops.full(shape, 1.0, input.dtype, input.device), float(p), True)
    if not inplace:
        return _ops.mul(input, mask)
    _ops.mul_(input, mask)
    return input


def _unbatched(input, p, training, inplace, batched_ndim):
    """Feature dropout of an input that may lack the batch dim (batched_ndim - 1 dims): a view with one."""
    if not training or p == 0:
        return input
    if input.ndim == batched_ndim:
        return _feature_dropout(input, p, training, inplace)
    out = _feature_dropout(_ops.unsqueeze(input, 0), p, training, inplace)
    return input if inplace else _ops.squeeze(out, [0])


def _warn_unexpected_ndim(fn, input, spatial):
    """torch's warning for an input of neither spatial + 1 nor spatial + 2 dims (still dropped out channel-wise)."""
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{fn}: Received a {input.ndim}-D input to {fn}, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {fn} exists to provide channel-wise dropout on inputs with {spatial} spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) inputs. A 3-D input is taken as (N, C, L), as torch still does."""
    _check_p(p)
    _warn_unexpected_ndim("dropout2d", input, 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    _warn_unexpected_ndim("dropout3d", input, 3)
    return _unbatched(input, p, training, inplace, 5)
