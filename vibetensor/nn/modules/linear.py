"""Linear, Bilinear and Identity."""
import math

from vibetensor import _factories
from vibetensor.nn import functional as F
from vibetensor.nn import init
from vibetensor.nn.modules.module import Module
from vibetensor.nn.parameter import Parameter


class Identity(Module):
    """Returns its input (accepts and ignores any constructor arguments, as torch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _weight_and_bias(module, weight_shape, bias, device, dtype):
    """module.weight of weight_shape and module.bias of its first dim (registered as None without bias), both
    uninitialised."""
    module.weight = Parameter(_factories.empty(*weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(_factories.empty(weight_shape[0], device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        # torch's init: kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound.
        init._layer_default_(self.weight, self.bias, self.weight.shape[1])

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b, with weight (out_features, in1_features, in2_features), both initialised
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as torch's."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
