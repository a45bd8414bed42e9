"""Conv1d and Conv2d (torch.nn's, zeros padding), over nn.functional.conv1d / conv2d (Note
[Convolution by windows] in vibetensor/nn/_conv.py)."""
import math

from vibetensor import _factories
from vibetensor.nn import functional as F
from vibetensor.nn import init
from vibetensor.nn._conv import _pair
from vibetensor.nn.modules.module import Module
from vibetensor.nn.parameter import Parameter


class _ConvNd(Module):
    def __init__(self, n, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, device, dtype):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode={padding_mode!r} is not supported by vibetensor (only 'zeros')")
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, padding_mode
        self.kernel_size = _pair(kernel_size, "kernel_size", n)
        self.stride = _pair(stride, "stride", n)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", n)
        self.dilation = _pair(dilation, "dilation", n)
        self.weight = Parameter(_factories.empty((out_channels, in_channels // groups, *self.kernel_size), device=device,
                                                 dtype=dtype))
        if bias:
            self.bias = Parameter(_factories.empty((out_channels,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._layer_default_(self.weight, self.bias, self.weight.shape[1] * math.prod(self.kernel_size))

    def forward(self, input):
        return self._conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,) * len(self.kernel_size), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.kernel_size):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    _conv = staticmethod(F.conv2d)
