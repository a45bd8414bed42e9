"""Activation modules: GELU, ReLU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax, Softmin, LeakyReLU, ELU,
Softplus, Mish, Hardtanh, ReLU6, Hardswish, Hardsigmoid, LogSigmoid, GLU and PReLU (learnable slopes)."""
import warnings

from vibetensor import _factories
from vibetensor.nn import functional as F
from vibetensor.nn import init
from vibetensor.nn.modules.module import Module
from vibetensor.nn.parameter import Parameter


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SiLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    def forward(self, input):
        return input.sigmoid()


class _AlongDim(Module):
    """F.<fn>(input, dim) as a module (Softmax, LogSoftmax, Softmin, GLU)."""

    _fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self)._fn(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    _fn = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    _fn = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    _fn = staticmethod(F.softmin)


class GLU(_AlongDim):
    _fn = staticmethod(F.glu)

    def __init__(self, dim=-1):
        super().__init__(dim)


class _InplaceActivation(Module):
    """An activation F.<fn>(input, *options, inplace): its options are attributes, and its repr lists them and
    inplace=True when set (torch's format)."""

    _fn = None
    _options = ()

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, *(getattr(self, name) for name in self._options), self.inplace)

    def extra_repr(self):
        parts = [f"{name}={getattr(self, name)}" for name in self._options]
        return ", ".join(parts + (["inplace=True"] if self.inplace else []))


class LeakyReLU(_InplaceActivation):
    _fn, _options = staticmethod(F.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__(inplace)
        self.negative_slope = negative_slope


class ELU(_InplaceActivation):
    _fn, _options = staticmethod(F.elu), ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = alpha


class Mish(_InplaceActivation):
    _fn = staticmethod(F.mish)


class _PlainReprActivation(_InplaceActivation):
    def extra_repr(self):  # torch's Hardswish and Hardsigmoid show nothing, inplace or not
        return ""


class Hardswish(_PlainReprActivation):
    _fn = staticmethod(F.hardswish)


class Hardsigmoid(_PlainReprActivation):
    _fn = staticmethod(F.hardsigmoid)


class Hardtanh(_InplaceActivation):
    _fn, _options = staticmethod(F.hardtanh), ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__(inplace)
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")  # torch's type
        self.min_val = min_val
        self.max_val = max_val


class ReLU6(Hardtanh):
    _fn, _options = staticmethod(F.relu6), ()

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    def forward(self, input):
        return F.logsigmoid(input)


class PReLU(Module):
    """leaky_relu with learnable negative slopes: one shared (num_parameters=1) or one per channel."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_factories.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
