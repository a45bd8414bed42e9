"""The functional op API (vt.add, vt.sum, vt.cat, ...) over the dispatcher's ops (_C._ops).

Each function keeps torch's signature. A function whose signature is its op's schema is the
op's generated caller itself (_CATALOGUE_OPS); Tensor methods (see _tensor.py) reuse the
functions written here. Ops that are compositions (std, all/any, split, ...) are written here in
terms of catalogue ops so that autograd flows through them.
"""
import builtins
import math
import numbers

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import return_types

Tensor = _C.Tensor
_ops = _C._ops


def _dims(dim):
    """dim given as None, an int or a sequence of ints -> the op's int[]? argument."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return None if len(dim) == 0 else list(dim)
    return [dim]


def _wrap_dim(dim, ndim, fn="dim"):
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


# Functions whose torch signature is their op's schema (a keyword `input` names `self`) are the
# catalogue's generated callers themselves, so vt.add(a, b) reaches the op as a + b and a.add(b)
# do. See Note [One route from Python] in csrc/python/op_route.h.
_CATALOGUE_OPS = (
    "add", "sub", "mul", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
    "logical_or", "logical_not", "where", "masked_fill", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin",
    "cos", "tanh", "sigmoid", "relu", "argmax", "argmin", "matmul", "transpose", "flatten", "unsqueeze",
    "gather", "index_select", "masked_select", "scatter_add", "triu", "tril", "clone", "dropout",
)
globals().update({name: getattr(_ops, name) for name in _CATALOGUE_OPS})


# --- elementwise ----------------------------------------------------------------------------

def rsub(input, other, *, alpha=1):
    return _ops.sub(other, input, alpha)


def div(input, other, *, rounding_mode=None):
    """True division, or the quotient rounded toward zero ('trunc') or down ('floor'), which keeps integers integral."""
    if rounding_mode is None:
        return _ops.div(input, other)
    return _ops.div_rounded(input, other, rounding_mode)


def floor_divide(input, other):
    return _ops.div_rounded(input, other, "floor")


def remainder(input, other):
    """input - floor(input / other) * other: the sign of other, as Python's %."""
    return _ops.remainder(input, other)


def square(input):
    return _ops.mul(input, input)


def reciprocal(input):
    return _ops.div(1.0, input)


def clamp(input, min=None, max=None):  # noqa: A002
    """clamp(input, min=None, max=None); tensor bounds clamp elementwise (via maximum/minimum)."""
    if min is None and max is None:
        raise RuntimeError("clamp(): at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input if min is None else _ops.maximum(input, min)
        return out if max is None else _ops.minimum(out, max)
    return _ops.clamp(input, min, max)


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


def isnan(input):
    if not input.dtype.is_floating_point:
        return _ops.full(list(input.shape), False, _dtype.bool, input.device)
    return _ops.ne(input, input)


def isinf(input):
    if not input.dtype.is_floating_point:
        return _ops.full(list(input.shape), False, _dtype.bool, input.device)
    return _ops.eq(_ops.abs(input), math.inf)


def isfinite(input):
    if not input.dtype.is_floating_point:
        return _ops.full(list(input.shape), True, _dtype.bool, input.device)
    return _ops.eq(_ops.sub(input, input, 1), 0)  # inf - inf and nan - nan are nan


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    diff = _ops.abs(_ops.sub(input, other, 1))
    close = _ops.le(diff, _ops.add(_ops.mul(_ops.abs(other), rtol), atol, 1))
    # as torch: an infinite difference is never within tolerance (rtol * |inf| would allow 5 against inf)
    close = _ops.logical_and(close, isfinite(diff))
    close = _ops.logical_or(close, _ops.eq(input, other))  # equal infinities
    if equal_nan:
        close = _ops.logical_or(close, _ops.logical_and(isnan(input), isnan(other)))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(all(isclose(input, other, rtol, atol, equal_nan)).item())


def equal(input, other):
    return tuple(input.shape) == tuple(other.shape) and builtins.bool(all(_ops.eq(input, other)).item())


# --- reductions -----------------------------------------------------------------------------

def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    return _ops.sum(input, _dims(dim), keepdim, dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return _ops.mean(input, _dims(dim), keepdim, dtype)


def _correction(dim, unbiased, correction, fn):
    if isinstance(dim, builtins.bool):  # var(x, False): the positional unbiased overload
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise TypeError(f"{fn}(): pass either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, int(correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "var")
    return _ops.var(input, _dims(dim), correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "std")
    return _ops.sqrt(_ops.var(input, _dims(dim), correction, keepdim))


def amax(input, dim=(), keepdim=False):
    return _ops.amax(input, _dims(dim), keepdim)


def amin(input, dim=(), keepdim=False):
    return _ops.amin(input, _dims(dim), keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """max(input) -> 0-d tensor; max(input, dim, keepdim=False) -> (values, indices); max(input, other)."""
    if dim is None:
        return _ops.amax(input, None, False)
    if isinstance(dim, Tensor):
        return _ops.maximum(input, dim)
    values, indices = _ops.max_dim(input, dim, keepdim)
    return return_types.max(values, indices)


def min(input, dim=None, keepdim=False):  # noqa: A001
    """min(input) -> 0-d tensor; min(input, dim, keepdim=False) -> (values, indices); min(input, other)."""
    if dim is None:
        return _ops.amin(input, None, False)
    if isinstance(dim, Tensor):
        return _ops.minimum(input, dim)
    values, indices = _ops.min_dim(input, dim, keepdim)
    return return_types.min(values, indices)


def all(input, dim=None, keepdim=False):  # noqa: A001
    """True where every element (along dim) is nonzero: no element equals zero."""
    zero = _ops.logical_not(input) if input.dtype is _dtype.bool else _ops.eq(input, 0)
    return _ops.eq(_ops.sum(zero, _dims(dim), keepdim, None), 0)


def any(input, dim=None, keepdim=False):  # noqa: A001
    """True where some element (along dim) is nonzero."""
    nonzero = input if input.dtype is _dtype.bool else _ops.ne(input, 0)
    return _ops.gt(_ops.sum(nonzero, _dims(dim), keepdim, None), 0)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all elements by default): p = 2/'fro', 1, inf, -inf, 0 or any float."""
    x = input if dtype is None else _ops.to_dtype(input, dtype)
    dims = _dims(dim)
    if p in ("fro", 2, 2.0):
        return _ops.sqrt(_ops.sum(_ops.mul(x, x), dims, keepdim, None))
    a = _ops.abs(x)
    if p == math.inf:
        return _ops.amax(a, dims, keepdim)
    if p == -math.inf:
        return _ops.amin(a, dims, keepdim)
    if p == 1:
        return _ops.sum(a, dims, keepdim, None)
    if p == 0:
        return _ops.sum(_ops.to_dtype(_ops.ne(x, 0), x.dtype), dims, keepdim, None)
    if not isinstance(p, numbers.Real):
        raise ValueError(f"norm(): p must be a number, 'fro', inf or -inf, got {p!r}")
    return _ops.pow(_ops.sum(_ops.pow(a, float(p)), dims, keepdim, None), 1.0 / p)


def logsumexp(input, dim, keepdim=False):
    m = _ops.amax(input, _dims(dim), True)
    m = _ops.where(isinf(m), 0.0, m)  # all -inf rows: avoid inf - inf
    s = _ops.log(_ops.sum(_ops.exp(_ops.sub(input, m, 1)), _dims(dim), True, None))
    out = _ops.add(s, m, 1)
    return out if keepdim else _ops.squeeze(out, _dims(dim))


def cumsum(input, dim, *, dtype=None):
    return _ops.cumsum(input, dim, dtype)


def softmax(input, dim, dtype=None):
    if dtype is not None:
        input = _ops.to_dtype(input, dtype)
    return _ops.softmax(input, dim)


def log_softmax(input, dim, dtype=None):
    if dtype is not None:
        input = _ops.to_dtype(input, dtype)
    return _ops.log_softmax(input, dim)


# --- linear algebra -------------------------------------------------------------------------

def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm(): expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return _ops.matmul(input, mat2)


def bmm(input, mat2):
    return _ops.bmm(input, mat2)


# --- shapes and views -----------------------------------------------------------------------

def reshape(input, shape):
    return _ops.reshape(input, list(shape))


def permute(input, dims):
    return _ops.permute(input, list(dims))


swapaxes = transpose
swapdims = transpose


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return _ops.permute(input, list(range(input.ndim))) if input.ndim < 2 else _ops.transpose(input, 0, 1)


def movedim(input, source, destination):
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
                           f"number of dims as destination ({dst} dims)")
    n = input.ndim
    src = [_wrap_dim(d, n) for d in src]
    dst = [_wrap_dim(d, n) for d in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    return _ops.permute(input, [o if o is not None else next(rest) for o in order])


def unflatten(input, dim, sizes):
    return _ops.unflatten(input, dim, list(sizes))


def squeeze(input, dim=None):
    return _ops.squeeze(input, _dims(dim) if dim is not None else None)


def narrow(input, dim, start, length):
    return _ops.narrow(input, dim, int(start), int(length))


def select(input, dim, index):
    return _ops.select(input, dim, int(index))


def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage with the given geometry; RuntimeError when it reaches outside the storage."""
    return _ops.as_strided(input, list(size), list(stride), None if storage_offset is None else int(storage_offset))


def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to (numpy rules); RuntimeError if none."""
    ndim = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s):
            j = ndim - len(s) + i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: "
                                   f"{[tuple(x) for x in shapes]}")
    return tuple(out)


def broadcast_to(input, size):
    return _ops.expand(input, list(size))


def broadcast_tensors(*tensors):
    shape = list(broadcast_shapes(*(t.shape for t in tensors)))
    return tuple(_ops.expand(t, shape) for t in tensors)


def cat(tensors, dim=0):
    return _ops.cat(list(tensors), dim)


concat = cat
concatenate = cat


def stack(tensors, dim=0):
    return _ops.stack(list(tensors), dim)


def split(tensor, split_size_or_sections, dim=0):
    """Views of `tensor` along dim: pieces of split_size (the last may be smaller) or of the listed sizes."""
    d = _wrap_dim(dim, tensor.ndim)
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and not (step == 0 and size == 0):
            raise RuntimeError(f"split(): split_size must be a positive integer, got {step}")
        if size == 0:
            return (tensor,)
        return tuple(_ops.narrow(tensor, d, s, builtins.min(step, size - s)) for s in range(0, size, step))
    sections = [int(s) for s in split_size_or_sections]
    if builtins.sum(sections) != size or builtins.any(s < 0 for s in sections):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {dim}), but got split_sizes={sections}")
    out, start = [], 0
    for s in sections:
        out.append(_ops.narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Up to `chunks` views of equal size ceil(n / chunks) along dim (torch.chunk semantics)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = input.shape[_wrap_dim(dim, input.ndim)]
    return split(input, builtins.max(1, -(-size // chunks)), dim)


def unbind(input, dim=0):
    d = _wrap_dim(dim, input.ndim)
    return tuple(_ops.select(input, d, i) for i in range(input.shape[d]))


def index_add(input, dim, index, source, *, alpha=1):
    if alpha != 1:
        source = _ops.mul(source, alpha)
    return _ops.index_add(input, dim, index, source)


def detach(input):
    return input.detach()


def numel(input):
    return input.numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point

