"""nn.functional: layers as functions (torch.nn.functional's names and signatures)."""
import warnings

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _functional as _F
from vibetensor._log1p_expm1 import log1p
from vibetensor.nn._activations import (elu, glu, hardsigmoid, hardswish, hardtanh, leaky_relu,  # noqa: F401
                                        logsigmoid, mish, prelu, relu6, softplus)
from vibetensor.nn._activations import _in_place
from vibetensor.nn._bilinear import bilinear  # noqa: F401
from vibetensor.nn._channel_dropout import dropout1d, dropout2d, dropout3d  # noqa: F401
from vibetensor.nn._conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d,  # noqa: F401
                                 batch_norm, conv1d, conv2d, group_norm, max_pool1d, max_pool2d)
from vibetensor.nn._distances import cosine_similarity, normalize, pairwise_distance  # noqa: F401
from vibetensor.nn._interpolate import interpolate  # noqa: F401
from vibetensor.nn._padding import pad  # noqa: F401 (torch.nn.functional.pad)
from vibetensor.nn._pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from vibetensor.nn._pointwise_losses import huber_loss, kl_div, l1_loss, mse_loss, smooth_l1_loss  # noqa: F401
from vibetensor.nn._reduction import check_reduction as _check_reduction
from vibetensor.nn._reduction import reduce_loss as _reduce_loss

Tensor = _C.Tensor
_ops = _C._ops


def linear(input, weight, bias=None):
    return _ops.linear(input, weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by the integer tensor input. Rows at padding_idx get no gradient."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding(): max_norm, scale_grad_by_freq and sparse are not supported by "
                                  "vibetensor")
    if padding_idx is not None:
        rows = weight.shape[0]
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
            raise TypeError(f"embedding(): padding_idx must be an int, got {type(padding_idx).__name__}")
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding(): padding_idx {padding_idx} is out of range for a weight of {rows} rows; "
                             f"expected -{rows} <= padding_idx < {rows}")
    out = _ops.embedding(weight, input)
    if padding_idx is not None and out.requires_grad:
        # The forward values are the same; where() stops the gradient into the padding row.
        pad = _ops.unsqueeze(_ops.eq(input, padding_idx % weight.shape[0]), -1)
        out = _ops.where(pad, out.detach(), out)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _ops.layer_norm(input, list(normalized_shape), weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _ops.rms_norm(input, list(normalized_shape), weight, eps)


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    out = _ops.dropout(input, p, True)
    if inplace:
        _ops.copy_(input, out, False)
        return input
    return out


def gelu(input, approximate="none"):
    return _ops.gelu(input, approximate)


def relu(input, inplace=False):
    if inplace:
        _ops.copy_(input, _ops.relu(input), False)
        return input
    return _ops.relu(input)


def silu(input, inplace=False):
    return _in_place(lambda x: _ops.mul(x, _ops.sigmoid(x)), input, inplace)


def sigmoid(input):
    return _ops.sigmoid(input)


def tanh(input):
    return _ops.tanh(input)


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _F.softmax(input, _softmax_dim("softmax", input.ndim, dim), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _F.log_softmax(input, _softmax_dim("log_softmax", input.ndim, dim), dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input): the smallest entries get the largest weights."""
    return _F.softmax(_ops.neg(input), _softmax_dim("softmin", input.ndim, dim), dtype)


def _classes_last(input, target):
    """(N, C, d1, ...) scores and (N, d1, ...) targets -> (N*d1*..., C) and (N*d1*...,)."""
    if input.ndim <= 2:
        return input, target
    c = input.shape[1]
    return _ops.reshape(_F.movedim(input, 1, -1), [-1, c]), _ops.reshape(target, [-1])


def _loss_with_classes(op, input, target, ignore_index, reduction):
    _check_reduction(reduction)
    x, t = _classes_last(input, target)
    out = op(x, t, ignore_index, reduction)
    if reduction == "none" and input.ndim > 2:
        out = _ops.reshape(out, list(target.shape))
    return out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy of unnormalized scores (N, C) or (N, C, d1, ...) against class indices."""
    if weight is not None or label_smoothing != 0.0 or size_average is not None or reduce is not None:
        raise NotImplementedError("cross_entropy(): weight, label_smoothing and the legacy size_average/reduce "
                                  "arguments are not supported by vibetensor")
    return _loss_with_classes(_ops.cross_entropy, input, target, ignore_index, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities (N, C) or (N, C, d1, ...) against class indices."""
    if weight is not None or size_average is not None or reduce is not None:
        raise NotImplementedError("nll_loss(): weight and the legacy size_average/reduce arguments are not supported "
                                  "by vibetensor")
    return _loss_with_classes(_ops.nll_loss, input, target, ignore_index, reduction)


def _legacy_reduction(size_average, reduce, reduction, fn):
    if size_average is not None or reduce is not None:
        raise NotImplementedError(f"{fn}(): the legacy size_average/reduce arguments are not supported by vibetensor "
                                  "(use reduction=)")
    _check_reduction(reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target * log(input) + (1 - target) * log(1 - input)), each log clamped at -100 as torch does."""
    _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    log_p = _ops.clamp(_ops.log(input), -100.0, None)
    log_q = _ops.clamp(_ops.log(_ops.sub(1.0, input, 1)), -100.0, None)
    loss = _ops.neg(_ops.add(_ops.mul(target, log_p), _ops.mul(_ops.sub(1.0, target, 1), log_q), 1))
    if weight is not None:
        loss = _ops.mul(loss, weight)
    return _reduce_loss(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits:
    (1 - t) * x + (1 + (pos_weight - 1) * t) * (log(1 + exp(-|x|)) + max(-x, 0))."""
    _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size ({tuple(input.shape)})")
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|)), with max(-x, 0) written (|x| - x) / 2, whose gradient at 0 is
    # -1/2: relu(-x) has 0 there, which gave a logit of exactly 0 the gradient 1 - t instead of 1/2 - t. The
    # terms that cancel for a confident logit, (1 - t) * x and max(-x, 0), are added first, so the small
    # log1p term keeps its digits (a log-probability of -4e-18 at logit -40, not 0).
    magnitude = _ops.abs(input)
    log_weight = 1.0 if pos_weight is None else _ops.add(_ops.mul(_ops.sub(pos_weight, 1.0, 1), target), 1.0, 1)
    linear = _ops.add(_ops.mul(_ops.sub(1.0, target, 1), input),
                      _ops.mul(log_weight, _ops.div(_ops.sub(magnitude, input, 1), 2.0)), 1)
    loss = _ops.add(linear, _ops.mul(log_weight, log1p(_ops.exp(_ops.neg(magnitude)))), 1)
    if weight is not None:
        loss = _ops.mul(loss, weight)
    return _reduce_loss(loss, reduction)


def one_hot(tensor, num_classes=-1):
    """[..., num_classes] int64 with a 1 at each value's position (num_classes=-1: the largest value + 1)."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got {tensor.dtype}")
    if tensor.numel():
        low, high = _ops.amin(tensor, None, False).item(), _ops.amax(tensor, None, False).item()
        if low < 0:
            raise RuntimeError(f"Class values must be non-negative, got {low}")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes, got {high} for num_classes={num_classes}")
    elif num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    classes = _ops.arange(0, num_classes, 1, _dtype.int64, tensor.device)
    return _ops.to_dtype(_ops.eq(_ops.unsqueeze(tensor, -1), classes), _dtype.int64)


def rotary_embedding(input, cos, sin, inverse=False):
    """Rotary position embedding, half-split form (not in torch; GPT code writes it from slices):
    cat(x1 * cos - x2 * sin, x1 * sin + x2 * cos) over input's last dim (x1, x2 its halves), for an
    input of shape (..., T, D) and cos, sin of shape (T, D / 2). inverse rotates back. One op, and on
    CUDA under kernels.backend=triton one kernel (Note [Rotary embedding] in csrc/ops/rotary.h)."""
    return _ops.rotary_embedding(input, cos, sin, inverse)


def bias_gelu(input, bias, approximate="none"):
    """gelu(input + bias) with bias 1-d of size input.shape[-1] (not in torch, where a Linear's bias and
    the GELU after it are two ops): one op, and on CUDA under kernels.backend=triton one kernel forward
    and one (plus the bias's column sums) backward. bias has input's dtype or float32; the result has
    input's dtype (Note [Bias GELU] in csrc/ops/bias_gelu.h)."""
    if not isinstance(bias, Tensor):  # a Python number would become a float64 tensor, refused for its dtype
        raise TypeError(f"bias_gelu: expected bias to be a 1-d Tensor, got {type(bias).__name__}")
    return _ops.bias_gelu(input, bias, approximate)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    return _ops.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)
