"""Convolutions, pooling and batch / group normalization (torch.nn.functional.conv1d / conv2d, max_pool1d /
2d, avg_pool1d / 2d, adaptive_avg_pool1d / 2d, batch_norm, group_norm) composed from ops, so they run on every device and
differentiate through autograd. See Note [Convolution by windows]."""
import contextlib
import math
import numbers

from vibetensor import _C
from vibetensor.backends import cudnn as _cudnn
from vibetensor import _factories
from vibetensor import _functional as _F
from vibetensor._rearrange import flip
from vibetensor.autograd.function import Function
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.nn._padding import pad

_ops = _C._ops

# Note [Convolution by windows]
# A convolution is a matrix product over sliding windows (im2col): the zero-padded input, made NHWC
# so that a window copies in runs of contiguous channels, is viewed with as_strided as
# [N, OH, OW, KH, KW, C] windows (stride and dilation are the view's strides), copied to rows of
# KH * KW * C values per output position, and multiplied by the weight reordered to match (one
# batched product per group), so on CUDA the work is one cuBLAS GEMM. A stride-1 convolution without
# groups copies no window at all: one GEMM of every input position with every kernel tap
# ([N * Hp * Wp, C] x [C, KH * KW * OC]), then each tap's slice added at its spatial offset. conv2d's backward is products too (Note [Convolution
# backward]). Pooling reduces the same windows (amax, mean) and differentiates through autograd:
# as_strided's backward scatters each window's gradient back with index_add (overlapping windows
# accumulate). Ties in max pooling share the gradient (amax's rule); torch gives it to one index.
# No cuDNN: the speed is that of im2col + GEMM. On CUDA the kernel suite's "conv" family replaces this with
# implicit GEMMs that write no window (Note [Implicit GEMM convolution] in kernels/triton/conv.py) where it
# takes the operands (groups 1, symmetric padding, float32 / bfloat16 / float16). On the CPU, float convolutions without groups take the
# native kernel instead (Note [CPU convolution] in csrc/ops/cpu/conv2d.cpp).


def _pair(v, name, n=2):
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise ValueError(f"{name}: expected an int or a tuple of {n} ints, got {v}")
    return v


def _window_count(padded, k, s, d, ceil_mode=False):
    """How many windows of k taps d apart, stride s, fit along `padded` elements (the input and its
    padding): torch's (size + 2 * p - d * (k - 1) - 1) // s + 1, rounded up under ceil_mode. Not positive
    where the padded input is shorter than the dilated window (window_out_size in csrc/ops/window_size.h
    is the C++ rule)."""
    span = padded - d * (k - 1) - 1
    return (-(-span // s) if ceil_mode else span // s) + 1


def _out_size(h, w, kernel, stride, dilation):
    """(OH, OW) of windows over an (already padded) h x w input; ValueError when none fits."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _window_count(h, kh, sh, dh), _window_count(w, kw, sw, dw)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"the input of spatial size ({h}, {w}) after padding is smaller than the dilated kernel "
                         f"({dh * (kh - 1) + 1}, {dw * (kw - 1) + 1})")
    return oh, ow


def _windows(x, kernel, stride, dilation):
    """x [N, C, H, W] contiguous -> the [N, C, OH, OW, KH, KW] view of its windows."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _out_size(h, w, kernel, stride, dilation)
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
    if (input.device.type == "cpu" and weight.device.type == "cpu" and groups == 1 and pads[0] == pads[1]
            and pads[2] == pads[3] and input.dtype == weight.dtype and input.dtype in _CPU_CONV_DTYPES):
        # Note [CPU convolution] (csrc/ops/cpu/conv2d.cpp): im2col per sample, samples in parallel
        out = _ops._conv2d_cpu(input, weight, list(stride), [pads[2], pads[0]], list(dilation))
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)
    return _Conv2d.apply(input, weight, bias, stride, pads, dilation, groups)


_CPU_CONV_DTYPES = (_C.dtype.float32, _C.dtype.float64)

_exchange_tf32_override = getattr(_C._cuda, "_exchange_tf32_override", None)  # CUDA builds only


@contextlib.contextmanager
def _conv_math(x):
    """On CUDA, the convolution's GEMMs follow vibetensor.backends.cudnn.allow_tf32 (True by default: torch's
    cuDNN convolutions use TF32), not the matmul switch; a scope of this thread only (Note [TF32 matmul])."""
    if _exchange_tf32_override is None or x.device.type != "cuda":
        yield
        return
    previous = _exchange_tf32_override(1 if _cudnn.allow_tf32 else 0)
    try:
        yield
    finally:
        _exchange_tf32_override(previous)


SHIFT_ADD_MAX_AREA_RATIO = 1.4  # padded area / output area: 1.13 at 32x32, 1.27 at 16x16, 1.56 at 8x8 (3x3, pad 1)


def _nhwc(x):
    """A padded NCHW input as contiguous NHWC, the layout whose windows copy in runs of channels."""
    return x.permute(0, 2, 3, 1).contiguous()


def _cols(xn, kernel, stride, dilation, groups):
    """The windows of NHWC xn as per-group GEMM rows: [g, N * OH * OW, KH * KW * Cg], and (OH, OW)."""
    n, hp, wp, c = xn.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _out_size(hp, wp, kernel, stride, dilation)
    win = _ops.as_strided(xn, [n, oh, ow, kh, kw, c], [hp * wp * c, sh * wp * c, sw * c, dh * wp * c, dw * c, 1], None)
    cg = c // groups
    cols = win.reshape(n * oh * ow, kh * kw, groups, cg)
    if groups == 1:
        return cols.reshape(1, n * oh * ow, kh * kw * c), (oh, ow)
    return cols.permute(2, 0, 1, 3).reshape(groups, n * oh * ow, kh * kw * cg), (oh, ow)


def _weight_cols(weight, groups):
    """weight [OC, Cg, KH, KW] as [g, KH * KW * Cg, OCg], the columns _cols' rows multiply."""
    oc, cg, kh, kw = weight.shape
    return weight.reshape(groups, oc // groups, cg, kh, kw).permute(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg,
                                                                                         oc // groups)


def _gemm_conv(x, weight, stride, dilation, groups):
    """The convolution of an already padded input x: [N, OC, OH, OW] (Note [Convolution by windows])."""
    xn = _nhwc(x)
    n, hp, wp, c = xn.shape
    oc, cg, kh, kw = weight.shape
    dh, dw = dilation
    oh, ow = hp - dh * (kh - 1), wp - dw * (kw - 1)
    # Shift and add pays where the padded positions are few more than the outputs (large images);
    # on small ones its GEMM over every padded position costs more than copying the windows.
    if stride == (1, 1) and groups == 1 and oh > 0 and ow > 0 and hp * wp <= SHIFT_ADD_MAX_AREA_RATIO * oh * ow:
        # Shift and add: one GEMM of every input position with every kernel tap, then the taps' results
        # summed at their offsets; no window is copied.
        y = _ops.matmul(xn.reshape(n * hp * wp, c), weight.permute(1, 2, 3, 0).reshape(c, kh * kw * oc))
        taps = kh * kw * oc
        out = None
        for i in range(kh):
            for j in range(kw):
                view = _ops.as_strided(y, [n, oh, ow, oc], [hp * wp * taps, wp * taps, taps, 1],
                                       ((i * dh) * wp + j * dw) * taps + (i * kw + j) * oc)
                out = view.contiguous() if out is None else out.add_(view)
        return out.permute(0, 3, 1, 2).contiguous()
    cols, (oh, ow) = _cols(xn, (kh, kw), stride, dilation, groups)
    out = _ops.matmul(cols, _weight_cols(weight, groups))  # [g, M, OCg]
    return out.permute(1, 0, 2).reshape(n, oh, ow, oc).permute(0, 3, 1, 2).contiguous()


def _suite_may_take(input, weight, pads, groups):
    """Whether to ask the kernel suite's "conv" family (CUDA, groups 1, symmetric padding; the C++ side
    checks the rest and records why it declines): Note [Implicit GEMM convolution] in kernels/triton/conv.py."""
    return (input.device.type == "cuda" and groups == 1 and pads[0] == pads[1] and pads[2] == pads[3]
            and input.dtype == weight.dtype)


class _Conv2d(Function):
    """conv2d by the kernel suite's implicit GEMMs where it takes the operands, else composed, with its
    backward as products too (Note [Convolution backward]): no scatter of windows."""

    @staticmethod
    def forward(ctx, input, weight, bias, stride, pads, dilation, groups):
        ctx.geometry = (tuple(input.shape), stride, pads, dilation, groups, bias is not None)
        if _suite_may_take(input, weight, pads, groups):
            with _conv_math(input):
                out = _ops._conv2d_suite(input, weight, bias, list(stride), [pads[2], pads[0]], list(dilation))
            if out is not None:
                ctx.suite = True
                ctx.save_for_backward(input, weight)
                return out
        ctx.suite = False
        x = pad(input, pads) if any(pads) else input.contiguous()
        with _conv_math(x):
            out = _gemm_conv(x, weight, stride, dilation, groups)
        if bias is not None:
            out = out + bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, input, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        with _conv_math(grad):
            return _Conv2d._backward(ctx, grad)

    @staticmethod
    def _backward(ctx, grad):
        shape, stride, pads, dilation, groups, has_bias = ctx.geometry
        want_x, want_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        gx = gw = gb = None
        if ctx.suite:
            input, weight = ctx.saved_tensors
            x = None
            if not _C.is_grad_enabled():  # create_graph differentiates the composed products instead
                gx, gw = _ops._conv2d_suite_backward(grad, input, weight, list(stride), [pads[2], pads[0]],
                                                     list(dilation), want_x, want_w)
        else:
            x, input, weight = ctx.saved_tensors
        if (want_x and gx is None) or (want_w and gw is None):
            if x is None or _C.is_grad_enabled():
                # create_graph: the padded input again, from the input with its history, so that the weight's
                # gradient differentiates back to it (Note [Custom Function double backward])
                x = pad(input, pads) if any(pads) else input.contiguous()
            cgx, cgw = _composed_grads(grad, x, weight, shape, stride, pads, dilation, groups,
                                       want_x and gx is None, want_w and gw is None)
            gx, gw = gx if gx is not None else cgx, gw if gw is not None else cgw
        if has_bias and ctx.needs_input_grad[2]:
            gb = grad.sum((0, 2, 3))
        return gx, gw, gb, None, None, None, None


def _composed_grads(grad, x, weight, shape, stride, pads, dilation, groups, want_x, want_w):
    """The input's and the weight's gradients of a convolution of the padded input x, composed from
    window views and GEMMs (Note [Convolution backward]); None where not wanted."""
    n, c, h, w = shape
    oc, cg, kh, kw = weight.shape
    grad = grad.contiguous()
    gx = gw = None
    if want_w:
        # dW[g] = dY_rows[g]^T @ cols[g] over the input's windows.
        cols, (oh, ow) = _cols(_nhwc(x), (kh, kw), stride, dilation, groups)
        rows = grad.permute(0, 2, 3, 1).reshape(n * oh * ow, groups, oc // groups).permute(1, 0, 2)
        gw = _ops.matmul(rows.transpose(1, 2), cols)  # [g, OCg, KH * KW * Cg]
        gw = gw.reshape(groups, oc // groups, kh, kw, cg).permute(0, 1, 4, 2, 3).reshape(oc, cg, kh, kw)
    if want_x:
        gx = _input_grad(grad, weight, x.shape, stride, pads, dilation, groups)[:, :, pads[2]:pads[2] + h,
                                                                                 pads[0]:pads[0] + w]
    return gx, gw


# Note [Convolution backward]
# The input's gradient is a transposed convolution, computed as a convolution: the output gradient
# with stride - 1 zeros between its elements (strided convolutions), padded by the dilated kernel's
# reach on every side, convolved with the kernel flipped in space and with its in / out channels
# swapped per group. That runs the forward's window view + GEMM; rows and columns of the padded input
# that no window reached get zeros. The weight's gradient is one product per group of the output
# gradient's rows with the saved windows. So the backward is GEMMs and copies, no index_add scatter
# (the autograd of the as_strided windows would scatter every window back element by element).
def _input_grad(grad, weight, padded_shape, stride, pads, dilation, groups):
    n, oc, oh, ow = grad.shape
    _, cg, kh, kw = weight.shape
    hp, wp = padded_shape[2], padded_shape[3]
    (sh, sw), (dh, dw) = stride, dilation
    if sh > 1 or sw > 1:  # zeros between the elements: [N, OC, (OH - 1) * sh + 1, (OW - 1) * sw + 1]
        g = pad(grad.reshape(n, oc, oh, 1, ow, 1), (0, sw - 1, 0, 0, 0, sh - 1))
        grad = g.reshape(n, oc, oh * sh, ow * sw)[:, :, :(oh - 1) * sh + 1, :(ow - 1) * sw + 1]
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
    g = pad(grad, (reach_w, reach_w, reach_h, reach_h))
    wt = flip(weight.reshape(groups, oc // groups, cg, kh, kw).transpose(1, 2), (-2, -1)).reshape(groups * cg,
                                                                                                  oc // groups, kh, kw)
    gx = _gemm_conv(g, wt, (1, 1), dilation, groups)  # [N, C, (OH - 1) * sh + reach + 1, ...]
    extra_h, extra_w = hp - gx.shape[2], wp - gx.shape[3]
    return pad(gx, (0, extra_w, 0, extra_h)) if extra_h or extra_w else gx


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
        out = _window_count(size + 2 * p, k, s, d, ceil_mode)
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


def _check_windows_hold_input(size, kernel, stride, padding, dilation, pads):
    """The native kernels' refusal (every_window_holds_input in csrc/ops/max_pool_args.h) on the composed
    path: a dilated window over only padding would give -inf, as torch does; vibetensor refuses it."""
    if max(dilation) == 1:
        return  # padding <= kernel // 2 and a last window starting inside the input: always an element
    for n, k, s, p, d, extra in zip(size, kernel, stride, padding, dilation, (pads[3] - padding[0], pads[1] - padding[1])):
        out = _window_count(n + 2 * p + extra, k, s, d)
        if not all(any(0 <= o * s - p + j * d < n for j in range(k)) for o in range(out)):
            raise ValueError(f"max_pool2d: a dilated window holds no element of the {size[0]}x{size[1]} input (only "
                             "padding); expected a dilation that keeps every window on the input")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if input.dim() == 3:
        out = max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    kernel, stride, padding, dilation = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation)
    native = input.dtype in _CPU_CONV_DTYPES if input.device.type == "cpu" else input.dtype.is_floating_point
    if native:
        # Note [Max pooling] (csrc/ops/max_pool_args.h): torch's tie rule, the gradient through the indices
        out, indices = _ops._max_pool2d(input, list(kernel), list(stride), list(padding), list(dilation),
                                        bool(ceil_mode))
        return (out, indices) if return_indices else out
    if return_indices:
        raise NotImplementedError("max_pool2d(return_indices=True) is supported for floating inputs (float32 and "
                                  f"float64 on the CPU) only, got {input.dtype} on {input.device}")
    pads = _pool_pads(input.shape[2], input.shape[3], kernel, stride, padding, dilation, ceil_mode)
    _check_windows_hold_input(input.shape[2:], kernel, stride, padding, dilation, pads)
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
    out = max_pool2d(input.unsqueeze(-2), (1, _pair(kernel_size, "max_pool1d kernel_size", 1)[0]),
                     (1, _pair(s, "max_pool1d stride", 1)[0]), (0, _pair(padding, "max_pool1d padding", 1)[0]),
                     (1, _pair(dilation, "max_pool1d dilation", 1)[0]), ceil_mode, return_indices)
    return (out[0].squeeze(-2), out[1].squeeze(-2)) if return_indices else out.squeeze(-2)


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
        centered = input - mean.reshape(shape)
        var = (centered * centered).mean(dims)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                running_var.mul_(1 - momentum).add_(var.detach() * (momentum * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed outside training")
        mean, var = running_mean, running_var
        centered = input - mean.reshape(shape)
    # One per-channel scale (rstd, times the weight) applied once: two passes over the input fewer, forward
    # and backward, than normalizing and then scaling.
    scale = (var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    out = centered * scale.reshape(shape)
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
