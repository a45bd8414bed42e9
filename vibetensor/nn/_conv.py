"""Convolutions, pooling and batch / group normalization (torch.nn.functional.conv1d / conv2d, max_pool1d /
2d, avg_pool1d / 2d, adaptive_avg_pool1d / 2d, batch_norm, group_norm) composed from ops, so they run on every device and
differentiate through autograd. See Note [Convolution by windows]."""
import math
import numbers

from vibetensor import _C
from vibetensor import _factories
from vibetensor import _functional as _F
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.nn._padding import pad

_ops = _C._ops

# Note [Convolution by windows]
# A convolution is a matrix product over sliding windows (im2col): the zero-padded input
# [N, C, H, W] (contiguous) is viewed with as_strided as [N, C, OH, OW, KH, KW] windows (stride and
# dilation are the view's strides, no copy), reordered to rows of C * KH * KW values per output
# position, and multiplied by the weight viewed as [OC, C * KH * KW] (one batched product per group),
# so on CUDA the work is one cuBLAS GEMM. Pooling reduces the same windows (amax, mean). Backward is
# autograd's: the product's, and as_strided's, which scatters each window's gradient back with
# index_add (overlapping windows accumulate). Ties in max pooling share the gradient (amax's rule);
# torch gives it to one index. No cuDNN: the speed is that of im2col + GEMM.


def _pair(v, name, n=2):
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise ValueError(f"{name}: expected an int or a tuple of {n} ints, got {v}")
    return v


def _windows(x, kernel, stride, dilation):
    """x [N, C, H, W] contiguous -> the [N, C, OH, OW, KH, KW] view of its windows."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError(f"the input of spatial size ({h}, {w}) after padding is smaller than the dilated kernel "
                         f"({dh * (kh - 1) + 1}, {dw * (kw - 1) + 1})")
    return _ops.as_strided(x, [n, c, oh, ow, kh, kw], [c * h * w, h * w, sh * w, sw, dh * w, dw], None)


def _check_input(op, x, dims):
    if x.dim() not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d (batched) input, got "
                         f"{x.dim()}-d of shape {tuple(x.shape)}")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _check_input("conv2d", input, 2)
    if input.dim() == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation = _pair(stride, "conv2d stride"), _pair(dilation, "conv2d dilation")
    if weight.dim() != 4:
        raise ValueError(f"conv2d: expected a 4-d weight (out_channels, in_channels / groups, kH, kW), got shape "
                         f"{tuple(weight.shape)}")
    n, c, h, w = input.shape
    oc, cg, kh, kw = weight.shape
    if groups < 1 or c % groups or oc % groups or cg * groups != c:
        raise ValueError(f"conv2d: input of {c} channels, weight {tuple(weight.shape)} and groups={groups} do not fit "
                         f"(expected in_channels = weight.shape[1] * groups = {cg * groups}, out_channels divisible by "
                         "groups)")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        else:
            raise ValueError(f"conv2d: padding must be 'valid', 'same', an int or a pair, got {padding!r}")
    else:
        ph, pw = _pair(padding, "conv2d padding")
        if ph < 0 or pw < 0:
            raise ValueError(f"conv2d: negative padding is not supported, got {(ph, pw)}")
        pads = (pw, pw, ph, ph)
    x = pad(input, pads) if any(pads) else input.contiguous()
    win = _windows(x, (kh, kw), stride, dilation)  # [N, C, OH, OW, KH, KW]
    oh, ow = win.shape[2], win.shape[3]
    m = n * oh * ow
    cols = win.permute(0, 2, 3, 1, 4, 5).reshape(m, groups, cg * kh * kw).permute(1, 0, 2)  # [g, M, K]
    wg = weight.reshape(groups, oc // groups, cg * kh * kw).transpose(1, 2)  # [g, K, OCg]
    out = _ops.matmul(cols, wg).permute(1, 0, 2).reshape(n, oh, ow, oc)
    if bias is not None:
        out = out + bias
    return out.permute(0, 3, 1, 2).contiguous()


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _check_input("conv1d", input, 1)
    if input.dim() == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if weight.dim() != 3:
        raise ValueError(f"conv1d: expected a 3-d weight (out_channels, in_channels / groups, kW), got shape "
                         f"{tuple(weight.shape)}")
    pad2 = padding if isinstance(padding, str) else (0, _pair(padding, "conv1d padding", 1)[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _pair(stride, "conv1d stride", 1)[0]), pad2,
                 (1, _pair(dilation, "conv1d dilation", 1)[0]), groups)
    return out.squeeze(2)


def _pool_pads(h, w, kernel, stride, padding, dilation, ceil_mode):
    """(left, right, top, bottom): the padding, plus what ceil_mode needs on the right / bottom."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    extra = []
    for size, k, s, p, d in ((h, kh, sh, ph, dilation[0]), (w, kw, sw, pw, dilation[1])):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside the input or left padding
            out -= 1
        extra.append(max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p)))
    return (pw, pw + extra[1], ph, ph + extra[0])


def _pool_args(op, input, kernel_size, stride, padding, dilation=1):
    _check_input(op, input, 2)
    kernel = _pair(kernel_size, f"{op} kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) \
        else _pair(stride, f"{op} stride")
    padding, dilation = _pair(padding, f"{op} padding"), _pair(dilation, f"{op} dilation")
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got {kernel}, {stride}, {dilation}")
    if min(padding) < 0 or padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding must be between 0 and half the kernel size, got padding={padding} for "
                         f"kernel_size={kernel}")
    return kernel, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if return_indices:
        raise NotImplementedError("max_pool2d(return_indices=True) is not supported by vibetensor")
    if input.dim() == 3:
        return max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode).squeeze(0)
    kernel, stride, padding, dilation = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation)
    pads = _pool_pads(input.shape[2], input.shape[3], kernel, stride, padding, dilation, ceil_mode)
    x = pad(input, pads, value=-math.inf) if any(pads) else input.contiguous()
    return _ops.amax(_windows(x, kernel, stride, dilation), [-2, -1], False)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    if input.dim() == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    kernel, stride, padding, _ = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    h, w = input.shape[2], input.shape[3]
    pads = _pool_pads(h, w, kernel, stride, padding, (1, 1), ceil_mode)
    x = pad(input, pads) if any(pads) else input.contiguous()
    total = _ops.sum(_windows(x, kernel, stride, (1, 1)), [-2, -1], False, None)
    if divisor_override:
        return total / divisor_override
    if not any(pads):
        return total / (kernel[0] * kernel[1])
    # The divisor per window: its elements inside the input, plus the explicit padding when
    # count_include_pad, never the ceil_mode overhang (torch's rule).
    ones = _factories.ones_like(input[:1, :1]).contiguous()
    if count_include_pad:
        ones = pad(ones, (padding[1], padding[1], padding[0], padding[0]), value=1.0)
        inside = pad(ones, (0, pads[1] - padding[1], 0, pads[3] - padding[0]))
    else:
        inside = pad(ones, pads)
    counts = _ops.sum(_windows(inside, kernel, stride, (1, 1)), [-2, -1], False, None)
    return total / counts


def adaptive_avg_pool2d(input, output_size):
    if input.dim() == 3:
        return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0)
    _check_input("adaptive_avg_pool2d", input, 2)
    h, w = input.shape[2], input.shape[3]
    oh, ow = (h if s is None else s for s in _pair_or_none(output_size))
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(input, (h // oh, w // ow))
    rows = []
    for i in range(oh):
        h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        cells = [input[:, :, h0:h1, (j * w) // ow:-(-((j + 1) * w) // ow)].mean((-2, -1)) for j in range(ow)]
        rows.append(_F.stack(cells, -1))
    return _F.stack(rows, -2)


def _pair_or_none(v):
    if v is None or isinstance(v, numbers.Integral):
        return (v, v)
    return tuple(v)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    s = kernel_size if stride is None else stride
    return max_pool2d(input.unsqueeze(-2), (1, _pair(kernel_size, "max_pool1d kernel_size", 1)[0]),
                      (1, _pair(s, "max_pool1d stride", 1)[0]), (0, _pair(padding, "max_pool1d padding", 1)[0]),
                      (1, _pair(dilation, "max_pool1d dilation", 1)[0]), ceil_mode, return_indices).squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    s = kernel_size if stride is None else stride
    return avg_pool2d(input.unsqueeze(-2), (1, _pair(kernel_size, "avg_pool1d kernel_size", 1)[0]),
                      (1, _pair(s, "avg_pool1d stride", 1)[0]), (0, _pair(padding, "avg_pool1d padding", 1)[0]),
                      ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, int(output_size))).squeeze(-2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes over every dim but the channel dim 1 with the batch's statistics (training) or the
    running ones; training updates the running statistics in place (unbiased variance), as torch."""
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        mean = input.mean(dims)
        var = ((input - mean.reshape(shape)) ** 2).mean(dims)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                running_var.mul_(1 - momentum).add_(var.detach() * (momentum * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed outside training")
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) * (var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes each sample's channels in num_groups groups (torch.nn.functional.group_norm)."""
    if input.dim() < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected an input of shape (N, C, ...) with C divisible by num_groups="
                         f"{num_groups}, got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    out = ((x - mean) * (var + eps).rsqrt()).reshape(input.shape)
    shape = [1, c] + [1] * (input.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
