"""The torch-like Tensor API: methods and properties patched onto _C.Tensor.

_C.Tensor (nanobind) carries the hot basics (shape, dtype, arithmetic operators, ...); everything
else is defined here in Python over the dispatcher ops and installed on the class at import, so
tensors returned by any op have the full API.
"""
import builtins
import copy as _copy
import numbers
import types

import numpy as np

from vibetensor import _C
from vibetensor import _counting
from vibetensor import _cumulative
from vibetensor import _diagonals
from vibetensor import _differences
from vibetensor import _distances
from vibetensor import _dtype
from vibetensor import _erf
from vibetensor import _factories
from vibetensor import _functional as F
from vibetensor import _indexing
from vibetensor import _interop
from vibetensor import _lerp
from vibetensor import _log1p_expm1
from vibetensor import _nan_handling
from vibetensor import _nonzero
from vibetensor import _polar
from vibetensor import _products
from vibetensor import _rearrange
from vibetensor import _rounding
from vibetensor import _sampling
from vibetensor import _scatter
from vibetensor import _sign
from vibetensor import _sorting
from vibetensor import _splitting
from vibetensor import _tensor_str
from vibetensor import _unique
from vibetensor.autograd.grad_mode import no_grad

Tensor = _C.Tensor
_ops = _C._ops
# The catalogue ops' generated callers as Tensor methods: a.add(b) costs what vt.add(a, b) and
# a + b cost (Note [One route from Python] in csrc/python/op_route.h).
_op_method = types.SimpleNamespace(**_C._op_methods)


class ScalarConversionError(RuntimeError, ValueError):
    """A multi-element tensor used as a Python scalar. torch raises RuntimeError; it is also a
    ValueError, the type Python uses for values of the right type but the wrong content."""


def _shape_args(args, fn):
    """Sizes as varargs (view(2, 3)) or one sequence (view((2, 3)))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    out = []
    for s in args:
        if isinstance(s, builtins.bool) or not isinstance(s, (numbers.Integral, np.integer, Tensor)):
            raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, but found element of type "
                            f"{type(s).__name__} ({s!r})")
        out.append(int(s))
    return out


# --- shape and views ------------------------------------------------------------------------

def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise TypeError("view(dtype) (reinterpreting the bytes) is not supported by vibetensor; use .to(dtype)")
    return _ops.view(self, _shape_args(shape, "view"))


def view_as(self, other):
    return _ops.view(self, list(other.shape))


def reshape(self, *shape):
    return _ops.reshape(self, _shape_args(shape, "reshape"))


def reshape_as(self, other):
    return _ops.reshape(self, list(other.shape))


def permute(self, *dims):
    return _ops.permute(self, _shape_args(dims, "permute"))


def expand(self, *sizes):
    return _ops.expand(self, _shape_args(sizes, "expand"))


def expand_as(self, other):
    return _ops.expand(self, list(other.shape))


def repeat(self, *sizes):
    """Tiles the tensor into a new one: each dim i repeated sizes[i] times (via expand + clone + reshape)."""
    reps = _shape_args(sizes, "repeat")
    if len(reps) < self.ndim:
        raise RuntimeError(f"Number of dimensions of repeat dims ({len(reps)}) can not be smaller than number of "
                           f"dimensions of tensor ({self.ndim})")
    shape = [1] * (len(reps) - self.ndim) + list(self.shape)
    interleaved, expanded = [], []
    for r, s in zip(reps, shape):
        interleaved += [1, s]
        expanded += [r, s]
    x = _ops.reshape(self, interleaved)
    # clone: a repeat owns its memory (reshape alone could return a view of an expand of self)
    return _ops.reshape(_ops.clone(_ops.expand(x, expanded)), [r * s for r, s in zip(reps, shape)])


def contiguous(self, memory_format=None):
    return self if self.is_contiguous() else _ops.contiguous(self)


def sum_to_size(self, *size):
    """The sum of this tensor down to `size` (torch.Tensor.sum_to_size): `size` must expand to its shape."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    return _C._ops.sum_to_size(self, [int(s) for s in size])


def _T(self):
    return _ops.permute(self, list(range(self.ndim - 1, -1, -1)))


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
    return _ops.transpose(self, -2, -1)


def split(self, split_size, dim=0):
    return F.split(self, split_size, dim)


# --- conversions ----------------------------------------------------------------------------

def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _C.device)):
            device = a
        elif isinstance(a, builtins.bool):
            non_blocking = a
        elif isinstance(a, int):
            device = f"cuda:{a}"
        else:
            raise TypeError(f"to() received an invalid argument {a!r} ({type(a).__name__}): expected a dtype, a "
                            "device (or device string) or a tensor")
    return dtype, device, non_blocking, copy


def to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other); returns self when nothing changes."""
    dtype, device, non_blocking, copy = _parse_to(args, dict(kwargs))
    t = self
    if device is not None:
        device = device if isinstance(device, _C.device) else _C.device(str(device))
        if device != t.device:
            t = _ops.to_device(t, device, non_blocking)
    if dtype is not None and dtype is not t.dtype:
        t = _ops.to_dtype(t, _dtype.check_dtype(dtype))
    if copy and t is self:
        t = _ops.clone(self)
    return t


def _caster(dt):
    def cast(self, memory_format=None):
        return self if self.dtype is dt else _ops.to_dtype(self, dt)
    cast.__name__ = {"float32": "float", "float64": "double", "float16": "half", "int64": "long", "int32": "int"} \
        .get(dt.name, dt.name)
    cast.__doc__ = f"self.to({dt})"
    return cast


def cpu(self):
    return self if self.device.type == "cpu" else _ops.to_device(self, "cpu", False)


def cuda(self, device=None, non_blocking=False):
    dev = _C.device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{int(device)}") \
        if not isinstance(device, _C.device) else device
    return self if self.device == dev else _ops.to_device(self, dev, non_blocking)


def pin_memory(self, device=None):
    """A copy in page-locked host memory, for non_blocking copies to the GPU (nanoGPT's get_batch pins every
    batch); self when already pinned. Without a GPU it raises, as torch does."""
    from vibetensor import cuda
    return self if cuda.is_pinned(self) else cuda.pin_memory(self)


def is_pinned(self, device=None):
    from vibetensor import cuda
    return cuda.is_pinned(self)


def type_as(self, other):
    return self if self.dtype is other.dtype else _ops.to_dtype(self, other.dtype)


def requires_grad_(self, requires_grad=True):
    self.requires_grad = requires_grad
    return self


def register_hook(self, hook):
    """hook(grad) runs on this tensor's gradient in backward; a tensor it returns replaces the gradient
    (Note [Tensor hooks] in csrc/autograd/node.h). Returns a handle whose remove() takes it off."""
    from vibetensor.utils.hooks import RemovableHandle
    return RemovableHandle._of_tensor(self, _C._register_hook(self, hook))


def retain_grad(self):
    """Keeps the gradient of this non-leaf in .grad after backward (a leaf keeps it anyway)."""
    _C._retain_grad(self)


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    from vibetensor import autograd
    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _scalar_value(self, what):
    n = self.numel()
    if n != 1:
        raise ScalarConversionError(f"a Tensor with {n} elements cannot be converted to Scalar" if what == "item"
                                    else "only one element tensors can be converted to Python scalars "
                                    f"(got a tensor of shape {tuple(self.shape)})")
    return _interop.host_values(self).reshape(()).item()


def item(self):
    """The value of a one-element tensor as a Python number."""
    return _scalar_value(self, "item")


def tolist(self):
    return _interop.host_values(self).tolist()


def numpy(self, *, force=False):
    """A numpy array sharing this (CPU) tensor's memory; force=True detaches and copies to the host."""
    if force:
        return _interop.host_values(self.detach()).copy()
    if self.requires_grad:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return _interop.to_numpy(self)


def __array__(self, dtype=None, copy=None):
    a = _interop.host_values(self.detach())
    return a if dtype is None else a.astype(dtype, copy=False)


def _new(self, factory, size, dtype, device, requires_grad, *extra):
    return _factories._finish(factory(size, *extra, self.dtype if dtype is None else dtype,
                                      self.device if device is None else device), requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, lambda s, d, dev: _ops.full(s, 0, d, dev), _factories._size(size, None, "new_zeros"),
                dtype, device, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, lambda s, d, dev: _ops.full(s, 1, d, dev), _factories._size(size, None, "new_ones"),
                dtype, device, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, _ops.empty, _factories._size(size, None, "new_empty"), dtype, device, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _new(self, _ops.full, _factories._size((size,), None, "new_full"), dtype, device, requires_grad, fill_value)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return _factories.tensor(data, dtype=self.dtype if dtype is None else dtype,
                             device=self.device if device is None else device, requires_grad=requires_grad)


# --- in-place -------------------------------------------------------------------------------
# The ops return a new Python wrapper of the same tensor; the methods return self (as torch does)
# so that identity (`x.add_(1) is x`) and Python subclasses such as Parameter are preserved.

def add_(self, other, *, alpha=1):
    _ops.add_(self, other, alpha)
    return self


def sub_(self, other, *, alpha=1):
    _ops.sub_(self, other, alpha)
    return self


def mul_(self, other):
    _ops.mul_(self, other)
    return self


def div_(self, other):
    _ops.div_(self, other)
    return self


def addcmul_(self, tensor1, tensor2, *, value=1):
    _ops.addcmul_(self, tensor1, tensor2, value)
    return self


def addcdiv_(self, tensor1, tensor2, *, value=1):
    _ops.addcdiv_(self, tensor1, tensor2, value)
    return self


def clamp_(self, min=None, max=None):  # noqa: A002
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        _ops.copy_(self, F.clamp(self, min, max), False)
    elif min is None and max is None:
        raise RuntimeError("clamp_(): at least one of 'min' or 'max' must not be None")
    else:
        _ops.clamp_(self, min, max)
    return self


def clamp_min_(self, min):  # noqa: A002
    return clamp_(self, min=min)


def clamp_max_(self, max):  # noqa: A002
    return clamp_(self, max=max)


def zero_(self):
    _ops.zero_(self)
    return self


def fill_(self, value):
    _ops.fill_(self, value)
    return self


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _ops.copy_(self, src, non_blocking)
    return self


def masked_fill_(self, mask, value):
    _ops.masked_fill_(self, mask, value)
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fills with samples of U(a, b): a + (b - a) * rand."""
    r = _ops.rand(list(self.shape), self.dtype, self.device) if generator is None else \
        _factories.rand(list(self.shape), dtype=self.dtype, device=self.device, generator=generator)
    _ops.copy_(self, _ops.add(_ops.mul(r, b - a), a, 1), False)
    return self


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills with samples of N(mean, std^2): mean + std * randn."""
    r = _ops.randn(list(self.shape), self.dtype, self.device) if generator is None else \
        _factories.randn(list(self.shape), dtype=self.dtype, device=self.device, generator=generator)
    _ops.copy_(self, _ops.add(_ops.mul(r, std), mean, 1), False)
    return self


def _flat(args):
    """Dims given as varargs (x.flip(0, 1)) or one sequence (x.flip((0, 1)))."""
    return args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """In-place scatter (Note [scatter from scatter_add] in _scatter.py), written into self."""
    return _inplace_of(lambda s: _scatter.scatter(s, dim, index, src, value=value, reduce=reduce), "scatter_")(self)


def _inplace_of(fn, name):
    # In-place unary ops not in the catalogue: the out-of-place result copied into self (copy_
    # moves its history onto self under autograd). Under autograd the op runs on a copy, so a
    # backward that needs the input (log, abs, pow, ...) reads the copy, not the overwritten self.
    # The copy is self * 1: MulBackward reads only the constant, while CloneBackward0 currently
    # checks its (unused) saved input and would see self's version bump.
    # The result must fit self's dtype, as torch's in-place ops check (canCast): copy_ would truncate a
    # floating result into an integer self (int.log1p_() as 0s and 1s) or squash a number into a bool one.
    def method(self, *args, **kwargs):
        src = _ops.mul(self, 1) if self.requires_grad and _C.is_grad_enabled() else self
        result = fn(src, *args, **kwargs)
        if isinstance(result, Tensor) and (
                (result.dtype.is_floating_point and not self.dtype.is_floating_point) or
                (self.dtype is _dtype.bool and result.dtype is not _dtype.bool)):
            raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output type "
                               f"{self.dtype}")
        _ops.copy_(self, result, False)
        return self
    method.__name__ = name
    method.__doc__ = f"In-place {name[:-1]}: self.copy_(self.{name[:-1]}())"
    return method


def _rounded_inplace(fn, name):
    """x //= y, x %= y: the result written into self, which must be able to hold its dtype (torch's check)."""
    inplace = _inplace_of(fn, name)

    def method(self, other):
        if isinstance(other, np.generic):
            other = other.item()
        other_float = other.dtype.is_floating_point if isinstance(other, Tensor) else isinstance(other, builtins.float)
        if other_float and not self.dtype.is_floating_point:
            raise RuntimeError(f"{name}: result type Float can't be cast to the desired output type {self.dtype}")
        return inplace(self, other)
    method.__name__ = name
    return method


def _augmented(op):
    """x += y etc.: the C++ operator returns a new wrapper of the same tensor; Python rebinds x to
    what the operator returns, so return self to keep x's identity (and Parameter class)."""
    def method(self, other):
        if isinstance(other, np.generic):
            other = other.item()
        result = op(self, other)
        return self if result is not NotImplemented else result
    method.__name__ = op.__name__
    return method


# numpy scalars (np.float32(2) * t, t * np.int64(3)) reach the tensor through numpy's ufunc
# override protocol once the C++ operator has returned NotImplemented, so the operators' fast
# path stays free of numpy checks.
_UFUNC_OPS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "true_divide": lambda a, b: a / b, "divide": lambda a, b: a / b, "power": lambda a, b: a ** b,
    "floor_divide": lambda a, b: a // b, "remainder": lambda a, b: a % b,
    "maximum": F.maximum, "minimum": F.minimum, "equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b,
    "less": lambda a, b: a < b, "less_equal": lambda a, b: a <= b, "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b, "logical_and": F.logical_and, "logical_or": F.logical_or,
}


def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
    fn = _UFUNC_OPS.get(ufunc.__name__)
    if method != "__call__" or kwargs or fn is None or len(inputs) != 2:
        return NotImplemented
    args = []
    for x in inputs:
        if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
            x = x.item()
        elif not isinstance(x, (Tensor, numbers.Number)):
            return NotImplemented  # numpy arrays: convert explicitly with vt.tensor / vt.from_numpy
        args.append(x)
    if not isinstance(args[0], Tensor) and not isinstance(args[1], Tensor):
        return NotImplemented
    return fn(*args)  # a Python number on the left goes through the tensor's reflected operator


# --- Python protocol ------------------------------------------------------------------------

def __repr__(self, *, tensor_contents=None):
    return _tensor_str.tensor_repr(self)


def __format__(self, spec):
    if self.ndim == 0:
        return _scalar_value(self, "format").__format__(spec)
    return object.__format__(self, spec) if spec else repr(self)


def __bool__(self):
    n = self.numel()
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with " + ("no values" if n == 0 else "more than one value")
                           + " is ambiguous")
    return builtins.bool(_scalar_value(self, "bool"))


def __float__(self):
    return builtins.float(_scalar_value(self, "float"))


def __int__(self):
    return builtins.int(_scalar_value(self, "int"))


def __index__(self):
    if self.dtype.is_floating_point or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return builtins.int(_scalar_value(self, "index"))


def __iter__(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(F.unbind(self, 0))


def __contains__(self, element):
    if not isinstance(element, (Tensor, numbers.Number)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                           f"{type(element).__name__}.")
    return builtins.bool(F.any(_ops.eq(self, element)).item())


def __deepcopy__(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    with no_grad():
        new = _ops.clone(self)
    if type(self) is not Tensor:  # a subclass such as Parameter: rebuild it around the copy
        new = type(self).__new__(type(self))
        Tensor.__init__(new, _ops.clone(self.detach()))
        new.__dict__.update(_copy.deepcopy({k: v for k, v in self.__dict__.items()}, memo))
    new.requires_grad = self.requires_grad
    g = self.grad
    if g is not None:
        new.grad = _copy.deepcopy(g, memo)
    memo[id(self)] = new
    return new


def _data_get(self):
    return self.detach()


def _data_set(self, value):
    """vibetensor cannot swap a tensor's storage as torch's set_data does: the values are copied
    into the existing storage, so the shape and dtype must match."""
    if tuple(value.shape) != tuple(self.shape) or value.dtype is not self.dtype:
        raise RuntimeError(f"tensor.data = value copies into the existing storage in vibetensor, so shape and dtype "
                           f"must match: tensor is {tuple(self.shape)} {self.dtype}, value is {tuple(value.shape)} "
                           f"{value.dtype}")
    with no_grad():
        _ops.copy_(self.detach(), value, False)


def _nbytes(self):
    return self.numel() * self.element_size()


_METHODS = {
    # shapes and views
    "view": view, "view_as": view_as, "reshape": reshape, "reshape_as": reshape_as, "permute": permute,
    "expand": expand, "expand_as": expand_as, "repeat": repeat, "contiguous": contiguous,
    "transpose": _op_method.transpose, "swapaxes": _op_method.transpose, "swapdims": _op_method.transpose, "t": F.t,
    "movedim": F.movedim, "flatten": _op_method.flatten, "unflatten": F.unflatten, "squeeze": F.squeeze,
    "unsqueeze": _op_method.unsqueeze, "narrow": F.narrow, "select": F.select, "as_strided": F.as_strided,
    "split": split, "chunk": F.chunk, "unbind": F.unbind,
    "flip": lambda self, *dims: _rearrange.flip(self, _flat(dims)), "fliplr": _rearrange.fliplr,
    "flipud": _rearrange.flipud, "roll": _rearrange.roll, "repeat_interleave": _rearrange.repeat_interleave,
    "rot90": _rearrange.rot90, "tensor_split": _splitting.tensor_split, "hsplit": _splitting.hsplit,
    "vsplit": _splitting.vsplit, "dsplit": _splitting.dsplit,
    # conversions
    "to": to, "float": _caster(_dtype.float32), "double": _caster(_dtype.float64), "half": _caster(_dtype.float16),
    "bfloat16": _caster(_dtype.bfloat16), "long": _caster(_dtype.int64), "int": _caster(_dtype.int32),
    "bool": _caster(_dtype.bool), "cpu": cpu, "cuda": cuda, "pin_memory": pin_memory, "type_as": type_as, "clone": _op_method.clone,
    "requires_grad_": requires_grad_, "backward": backward, "register_hook": register_hook,
    "retain_grad": retain_grad, "item": item, "tolist": tolist, "numpy": numpy,
    "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty, "new_full": new_full,
    "new_tensor": new_tensor,
    # in-place
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "addcmul_": addcmul_, "addcdiv_": addcdiv_,
    "clamp_": clamp_, "clip_": clamp_, "clamp_min_": clamp_min_, "clamp_max_": clamp_max_, "zero_": zero_,
    "fill_": fill_, "copy_": copy_, "masked_fill_": masked_fill_, "uniform_": uniform_, "normal_": normal_,
    # elementwise
    "add": _op_method.add, "sub": _op_method.sub, "subtract": _op_method.sub, "mul": _op_method.mul,
    "multiply": _op_method.mul, "div": F.div, "divide": F.div, "true_divide": F.div, "pow": _op_method.pow,
    "maximum": _op_method.maximum, "minimum": _op_method.minimum, "eq": _op_method.eq, "ne": _op_method.ne,
    "lt": _op_method.lt, "le": _op_method.le, "gt": _op_method.gt, "ge": _op_method.ge,
    "logical_and": _op_method.logical_and, "logical_or": _op_method.logical_or, "logical_not": _op_method.logical_not,
    "where": lambda self, condition, other: F.where(condition, self, other), "masked_fill": _op_method.masked_fill,
    "neg": _op_method.neg, "negative": _op_method.neg, "abs": _op_method.abs, "exp": _op_method.exp,
    "log": _op_method.log, "sqrt": _op_method.sqrt, "rsqrt": _op_method.rsqrt, "sin": _op_method.sin,
    "cos": _op_method.cos, "tanh": _op_method.tanh, "sigmoid": _op_method.sigmoid, "relu": _op_method.relu,
    "square": F.square, "reciprocal": F.reciprocal, "clamp": F.clamp, "clip": F.clamp, "clamp_min": F.clamp_min,
    "clamp_max": F.clamp_max, "isnan": F.isnan, "isinf": F.isinf, "isfinite": F.isfinite, "isclose": F.isclose,
    "allclose": F.allclose, "equal": F.equal, "floor_divide": F.floor_divide, "remainder": F.remainder,
    "__floordiv__": F.floor_divide, "__rfloordiv__": lambda self, other: F.floor_divide(other, self),
    "__mod__": F.remainder, "__rmod__": lambda self, other: F.remainder(other, self),
    "log1p": _log1p_expm1.log1p, "expm1": _log1p_expm1.expm1, "logaddexp": _log1p_expm1.logaddexp, "erf": _erf.erf,
    "sign": _sign.sign, "sgn": _sign.sgn, "heaviside": _sign.heaviside, "trunc": _rounding.trunc,
    "fix": _rounding.trunc, "frac": _rounding.frac, "lerp": _lerp.lerp, "atan2": _polar.atan2,
    "arctan2": _polar.atan2, "hypot": _polar.hypot,
    # reductions
    "sum": F.sum, "mean": F.mean, "var": F.var, "std": F.std, "amax": F.amax, "amin": F.amin, "max": F.max,
    "min": F.min, "argmax": _op_method.argmax, "argmin": _op_method.argmin, "all": F.all, "any": F.any,
    "norm": F.norm, "logsumexp": F.logsumexp, "softmax": F.softmax, "log_softmax": F.log_softmax,
    "cumsum": F.cumsum, "sum_to_size": sum_to_size, "cumprod": _cumulative.cumprod, "cummax": _cumulative.cummax,
    "cummin": _cumulative.cummin, "logcumsumexp": _cumulative.logcumsumexp, "nansum": _nan_handling.nansum,
    "nanmean": _nan_handling.nanmean, "nan_to_num": _nan_handling.nan_to_num, "diff": _differences.diff,
    "count_nonzero": _counting.count_nonzero, "dist": _distances.dist, "bincount": _counting.bincount,
    "unique": _unique.unique, "unique_consecutive": _unique.unique_consecutive,
    # sorting, sampling
    "sort": _sorting.sort, "argsort": _sorting.argsort, "msort": _sorting.msort, "topk": _sorting.topk,
    "multinomial": _sampling.multinomial,
    # linear algebra, indexing
    "matmul": _op_method.matmul, "mm": F.mm, "bmm": F.bmm, "gather": _op_method.gather,
    "index_select": _op_method.index_select, "masked_select": _op_method.masked_select,
    "scatter_add": _op_method.scatter_add, "index_add": F.index_add, "triu": _op_method.triu, "tril": _op_method.tril,
    "scatter": _scatter.scatter, "scatter_": scatter_, "nonzero": _nonzero.nonzero, "argwhere": _nonzero.argwhere,
    "outer": _products.outer, "ger": _products.outer, "addmm": _products.addmm, "addmv": _products.addmv,
    "addr": _products.addr, "baddbmm": _products.baddbmm, "addbmm": _products.addbmm, "kron": _products.kron,
    "cross": _products.cross, "diag": _diagonals.diag, "diagonal": _diagonals.diagonal,
    "diag_embed": _diagonals.diag_embed,
    # introspection
    "nelement": lambda self: self.numel(), "is_floating_point": F.is_floating_point, "is_pinned": is_pinned,
    "ndimension": lambda self: self.ndim,
    # Python protocol
    "__repr__": __repr__, "__str__": __repr__, "__format__": __format__, "__bool__": __bool__, "__float__": __float__,
    "__int__": __int__, "__index__": __index__, "__iter__": __iter__, "__contains__": __contains__,
    "__getitem__": _indexing.getitem, "__setitem__": _indexing.setitem, "__array__": __array__,
    "__array_ufunc__": __array_ufunc__, "__deepcopy__": __deepcopy__, "__dlpack__": _interop.dlpack_export,
    "__pos__": lambda self: self, "__iadd__": _augmented(Tensor.__iadd__), "__isub__": _augmented(Tensor.__isub__),
    "__imul__": _augmented(Tensor.__imul__), "__itruediv__": _augmented(Tensor.__itruediv__),
}

for _name in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "neg", "abs", "sin", "cos", "pow", "square",
              "reciprocal", "clamp_min", "clamp_max", "log1p", "expm1", "erf", "sign", "sgn", "trunc", "fix", "frac",
              "lerp", "atan2", "arctan2", "hypot", "heaviside", "addmm", "addmv", "addr", "baddbmm", "addbmm",
              "cumprod", "nan_to_num"):
    if _name + "_" not in _METHODS:
        _METHODS[_name + "_"] = _inplace_of(_METHODS[_name], _name + "_")
_METHODS["negative_"] = _METHODS["neg_"]
_METHODS["floor_divide_"] = _METHODS["__ifloordiv__"] = _rounded_inplace(F.floor_divide, "floor_divide_")
_METHODS["remainder_"] = _METHODS["__imod__"] = _rounded_inplace(F.remainder, "remainder_")

_PROPERTIES = {
    "T": property(_T), "mT": property(_mT), "data": property(_data_get, _data_set),
    "itemsize": property(lambda self: self.element_size()), "nbytes": property(_nbytes),
    "is_cpu": property(lambda self: self.device.type == "cpu"),
}


def install():
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    for name, prop in _PROPERTIES.items():
        setattr(Tensor, name, prop)


install()
