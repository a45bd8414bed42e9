"""Products of tensors built on matmul and broadcast mul: outer, the scaled sums beta * input + alpha * product
(addmm, addmv, addr, baddbmm, addbmm), kron, tensordot and cross, with torch's argument checks."""
import builtins
import numbers

from vibetensor import _C
from vibetensor._functional import _wrap_dim, broadcast_shapes

Tensor = _C.Tensor
_ops = _C._ops


def _tensor_args(fn, **named):
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")


def _check_ndim(fn, name, t, ndim):
    kind = {1: "a vector", 2: "a matrix", 3: "a 3D tensor"}[ndim]
    if t.ndim != ndim:
        raise RuntimeError(f"{fn}: {name} must be {kind}, got {t.ndim}-D tensor")


def _same_dtype(fn, **named):
    dtypes = {t.dtype for t in named.values()}
    if len(dtypes) > 1:
        given = ", ".join(f"{name} {t.dtype}" for name, t in named.items())
        raise RuntimeError(f"{fn}: expected all operands to have the same dtype, got {given}")


def _scaled_sum(fn, input, product, beta, alpha):
    """beta * input + alpha * product, input broadcast to product's shape. beta = 0 ignores input's values (nan
    and inf included), as torch does; its gradient is then 0."""
    for name, s in (("beta", beta), ("alpha", alpha)):
        if isinstance(s, builtins.bool) or not isinstance(s, numbers.Number):
            raise TypeError(f"{fn}(): argument '{name}' must be a number, not {type(s).__name__}")
        if not product.dtype.is_floating_point and not isinstance(s, numbers.Integral):
            raise TypeError(f"{fn}(): for integral input tensors, argument {name} must not be a floating point "
                            f"number, got {s!r}")
    shape = list(product.shape)
    try:
        ok = list(broadcast_shapes(input.shape, shape)) == shape
    except RuntimeError:
        ok = False
    if not ok:
        raise RuntimeError(f"{fn}: input of shape {list(input.shape)} cannot be broadcast to the product's shape "
                           f"{shape}")
    if alpha != 1:
        product = _ops.mul(product, alpha)
    if beta == 0:  # where, not 0 * input: 0 * nan is nan
        return _ops.where(_ops.full([], True, _C.dtype.bool, product.device), product, input)
    return _ops.add(product, input if beta == 1 else _ops.mul(input, beta), 1)


def outer(input, vec2):
    """The outer product input[i] * vec2[j] of two vectors."""
    _tensor_args("outer", input=input, vec2=vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return _ops.mul(_ops.unsqueeze(input, 1), _ops.unsqueeze(vec2, 0))


ger = outer


def _factors(fn, input, ndims, **factors):
    """The checks of a scaled sum's operands: tensors, the factors' dims, one dtype for all."""
    _tensor_args(fn, input=input, **factors)
    for (name, t), ndim in zip(factors.items(), ndims):
        _check_ndim(fn, name, t, ndim)
    _same_dtype(fn, input=input, **factors)


def _matrix_product(fn, input, left, right, beta, alpha, mismatch):
    """beta * input + alpha * (left @ right), where left's columns must match right's rows (mismatch(): the
    message)."""
    if left.shape[1] != right.shape[0]:
        raise RuntimeError(mismatch())
    return _scaled_sum(fn, input, _ops.matmul(left, right), beta, alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    _factors("addmm", input, (2, 2), mat1=mat1, mat2=mat2)
    return _matrix_product("addmm", input, mat1, mat2, beta, alpha, lambda: (
        f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
        f"{mat2.shape[0]}x{mat2.shape[1]})"))


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    _factors("addmv", input, (2, 1), mat=mat, vec=vec)
    return _matrix_product("addmv", input, mat, vec, beta, alpha, lambda: (
        f"addmv: size mismatch, got input ({'x'.join(map(str, input.shape))}), mat ({mat.shape[0]}x{mat.shape[1]}), "
        f"vec ({vec.shape[0]})"))


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    _factors("addr", input, (1, 1), vec1=vec1, vec2=vec2)
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def _batches(fn, input, batch1, batch2):
    _factors(fn, input, (3, 3), batch1=batch1, batch2=batch2)
    expected = [batch1.shape[0], batch1.shape[2]]
    if list(batch2.shape[:2]) != expected:
        raise RuntimeError(f"{fn}: expected size for first two dimensions of batch2 tensor to be: {expected} but "
                           f"got: {list(batch2.shape[:2])}.")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    _batches("baddbmm", input, batch1, batch2)
    return _scaled_sum("baddbmm", input, _ops.bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum over the batch of batch1[b] @ batch2[b]."""
    _batches("addbmm", input, batch1, batch2)
    # The batch summed inside one matmul: [n, b*k] @ [b*k, m].
    b, n, k = batch1.shape
    m = batch2.shape[2]
    left = _ops.reshape(_ops.permute(batch1, [1, 0, 2]), [n, b * k])
    return _scaled_sum("addbmm", input, _ops.matmul(left, _ops.reshape(batch2, [b * k, m])), beta, alpha)


def kron(input, other):
    """The Kronecker product: block (i, j, ...) of the result is input[i, j, ...] * other."""
    _tensor_args("kron", input=input, other=other)
    ndim = builtins.max(input.ndim, other.ndim)
    a = [1] * (ndim - input.ndim) + list(input.shape)
    b = [1] * (ndim - other.ndim) + list(other.shape)
    # input's dims interleaved with other's: out[i0, j0, i1, j1, ...] = input[i0, i1, ...] * other[j0, j1, ...]
    left = _ops.reshape(input, [s for n in a for s in (n, 1)])
    right = _ops.reshape(other, [s for n in b for s in (1, n)])
    return _ops.reshape(_ops.mul(left, right), [x * y for x, y in zip(a, b)])


def _tensordot_dims(dims, a, b):
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, numbers.Integral) and not isinstance(dims, builtins.bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise TypeError(f"tensordot(): dims must be an int or a pair of dim lists, got {dims!r}")
    dims_a, dims_b = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length, got {dims_a} and {dims_b}")
    return dims_a, dims_b


def tensordot(a, b, dims=2, out=None):
    """The sum over the dims dims[0] of a paired with dims[1] of b (dims=n: a's last n with b's first n) of
    a * b; the result's dims are a's others, then b's."""
    _tensor_args("tensordot", a=a, b=b)
    if out is not None:
        raise TypeError("tensordot(): out= is not supported by vibetensor; assign the result instead")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype, got {a.dtype} and {b.dtype}")
    given_a, given_b = _tensordot_dims(dims, a, b)
    dims_a = [_wrap_dim(d, a.ndim) for d in given_a]
    dims_b = [_wrap_dim(d, b.ndim) for d in given_b]
    for wrapped in (dims_a, dims_b):
        for d in wrapped:
            if wrapped.count(d) > 1:
                raise RuntimeError(f"tensordot: dim {d} appears multiple times in the list of dims")
    for da, db, ga, gb in zip(dims_a, dims_b, given_a, given_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {ga} "
                               f"and second has size {b.shape[db]} in dim {gb}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    shape_a, shape_b = [a.shape[d] for d in free_a], [b.shape[d] for d in free_b]
    # [free_a..., dims_a...] as a matrix times [dims_b..., free_b...] as a matrix (explicit sizes: -1 is
    # ambiguous beside a 0)
    rows = _ops.reshape(_ops.permute(a, free_a + dims_a), [_numel(shape_a), _numel([a.shape[d] for d in dims_a])])
    cols = _ops.reshape(_ops.permute(b, dims_b + free_b), [rows.shape[1], _numel(shape_b)])
    return _ops.reshape(_ops.matmul(rows, cols), shape_a + shape_b)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def cross(input, other, dim=None):
    """The cross product of the 3-vectors along dim (None: the first dim of input of size 3), broadcast over the
    other dims."""
    _tensor_args("cross", input=input, other=other)
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} and "
                           f"{other.ndim}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"cross: expected both inputs to have the same dtype, got {input.dtype} and {other.dtype}")
    if dim is None:
        dim = next((d for d, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {list(input.shape)}")
    d = _wrap_dim(dim, input.ndim)
    if input.ndim == 0 or input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d] if input.ndim else 0} and {other.shape[d] if other.ndim else 0}")
    broadcast_shapes(input.shape, other.shape)  # a clear error before the products
    x = [_ops.narrow(input, d, i, 1) for i in range(3)]
    y = [_ops.narrow(other, d, i, 1) for i in range(3)]
    parts = [_ops.sub(_ops.mul(x[(i + 1) % 3], y[(i + 2) % 3]), _ops.mul(x[(i + 2) % 3], y[(i + 1) % 3]), 1)
             for i in range(3)]
    return _ops.cat(parts, d)
