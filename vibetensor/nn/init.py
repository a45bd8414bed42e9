"""nn.init: in-place initializers (run without recording gradients), as torch.nn.init."""
import math

from vibetensor import _C
from vibetensor import _sorting
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.nn._householder_qr import q_with_positive_r

_ops = _C._ops


def calculate_gain(nonlinearity, param=None):
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)), generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b]. Drawn by rejection (vibetensor has no erfinv for torch's inverse-CDF
    draw): values outside [a, b] are drawn again until none is left, which gives the same distribution. An
    interval holding almost none of the normal's mass would take many rounds: it is refused, as a mean more than
    2 std outside it (torch warns there)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    mass = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2.0))) - math.erf((a - mean) / (std * math.sqrt(2.0))))
    if mass < 1e-3:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds {mass:.2g} of N({mean}, {std}^2)'s mass: too "
                         "little to draw from by rejection")
    with no_grad():
        tensor.normal_(mean, std, generator=generator)
        while True:
            outside = (tensor < a).logical_or(tensor > b)
            if not outside.any().item():
                return tensor
            fresh = tensor.new_empty(tensor.shape).normal_(mean, std)
            tensor.copy_(fresh.where(outside, tensor))


def eye_(tensor):
    """The identity matrix (ones where row == column) in a 2-D tensor."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got a {tensor.ndim}-D tensor")
    rows, cols = tensor.shape
    rows_index = _ops.unsqueeze(_ops.arange(0, rows, 1, _C.dtype.int64, tensor.device), 1)
    with no_grad():
        return tensor.copy_(rows_index == _ops.arange(0, cols, 1, _C.dtype.int64, tensor.device))


def dirac_(tensor, groups=1):
    """The Dirac delta in a {3, 4, 5}-D convolution weight: a convolution with it passes its input through, each
    group's first min(out channels per group, in channels) channels."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, got a {tensor.ndim}-D tensor")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive integer, got {groups!r}")
    out_channels = tensor.shape[0]
    if out_channels % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups: {out_channels} output channels, groups={groups}")
    per_group = out_channels // groups
    centre = tuple(size // 2 for size in tensor.shape[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(per_group, tensor.shape[1])):
                tensor[(g * per_group + d, d) + centre] = 1
    return tensor


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times gain, its trailing dimensions flattened: rows orthonormal when there are no
    more rows than columns (W W^T = gain^2 I), else columns. As torch: the Q of the QR factorisation of a normal
    draw, R's diagonal made positive so that Q is uniform (Haar) over the orthogonal matrices (Note [Householder
    QR on ops]). The factorisation runs in float64 for float64 tensors, else in float32."""
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported, got a {tensor.ndim}-D tensor")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    dtype = _C.dtype.float64 if tensor.dtype == _C.dtype.float64 else _C.dtype.float32
    with no_grad():
        flattened = tensor.new_empty((rows, cols), dtype=dtype).normal_(0, 1, generator=generator)
        if rows < cols:
            q = q_with_positive_r(flattened.t()).t()
        else:
            q = q_with_positive_r(flattened)
        tensor.copy_(q.reshape(tensor.shape))
        return tensor.mul_(gain)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std^2) values in a 2-D tensor with ceil(sparsity * rows) entries of each column set to zero, at rows
    drawn uniformly without replacement (torch draws a permutation per column; here the num_zeros smallest of a
    uniform draw per entry, column by column: the same distribution)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got a {tensor.ndim}-D tensor")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: sparsity is the fraction of each column set to zero, expected a number in "
                         f"[0, 1], got {sparsity}")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        if num_zeros == 0 or cols == 0:
            return tensor
        keys = tensor.new_empty((rows, cols), dtype=_C.dtype.float64).uniform_(0, 1, generator=generator)
        rank_in_column = _sorting.argsort(_sorting.argsort(keys, dim=0), dim=0)
        return tensor.masked_fill_(rank_in_column < num_zeros, 0)


def _layer_default_(weight, bias, fan_in):
    """torch's default initialisation of Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) for the
    weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias (if any)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
