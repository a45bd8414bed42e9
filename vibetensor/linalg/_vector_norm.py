"""linalg.vector_norm: the p-norm of a tensor's entries over some dims, with torch's gradients.

Note [Norm gradients at zero]
The compositions sqrt(sum(x^2)) and sum(|x|^p)^(1/p) have infinite slopes at 0 (sqrt' and, for p < 1, (|x|^p)')
that meet a zero factor in backward, which gives nan; torch's backward defines 0 there (the subgradient of a
norm at a zero vector, and 0 for an entry that is 0 under p < 1). Each such step is computed on a stand-in 1
where its argument is 0 and the exact value is put back by where: the forward is unchanged, and where sends
no gradient to the stand-in, so the gradient there is 0 as torch's. ord=0 (a count) is in the graph as in torch,
and gives the input no gradient at all (its .grad stays None, as torch's undefined gradient leaves it)."""
import math
import numbers

from vibetensor import _functional
from vibetensor.autograd.function import Function
from vibetensor.linalg import _checks

_FN = "linalg.vector_norm"


def _all_dims(dim):
    """None, () and [] reduce every dim (torch's meaning of an empty dim list)."""
    return dim is None or (not isinstance(dim, int) and len(dim) == 0)


def _dims(x, dim):
    if _all_dims(dim):
        return list(range(x.ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    return [_checks.wrap_dim(_FN, d, x.ndim) for d in dims]


def _check_identity(x, ord, dims):
    """inf and negative orders reduce with max / min or 1 / sum(1 / ...): an empty reduction has no value."""
    if ord >= 0 and ord != math.inf:
        return
    if x.numel() == 0 if not dims else any(x.shape[d] == 0 for d in dims):
        raise RuntimeError(f"{_FN} cannot compute the {ord} norm on an empty tensor because the operation does not "
                           "have an identity")


def _pow_where_nonzero(a, exponent, value_at_zero):
    """a ** exponent, with value_at_zero where a == 0 and no gradient there (Note [Norm gradients at zero])."""
    zero = a == 0
    return _functional.where(zero, value_at_zero, _functional.where(zero, 1.0, a).pow(exponent))


class _CountNonzero(Function):
    """The 0 "norm": the number of nonzero entries; backward gives the input no gradient (None), as torch's."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        return (x != 0).to(x.dtype).sum(dims, keepdim=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return None, None, None


def _norm(x, ord, dims, keepdim):
    if ord == 2:
        return _pow_where_nonzero((x * x).sum(dims, keepdim=keepdim), 0.5, 0.0)
    if ord == 0:
        return _CountNonzero.apply(x, dims, keepdim)
    a = x.abs()
    if ord == math.inf:
        return a.amax(dims, keepdim=keepdim)
    if ord == -math.inf:
        return a.amin(dims, keepdim=keepdim)
    if ord == 1:
        return a.sum(dims, keepdim=keepdim)
    total = _pow_where_nonzero(a, ord, 0.0 if ord > 0 else math.inf).sum(dims, keepdim=keepdim)
    if ord > 0:
        return _pow_where_nonzero(total, 1.0 / ord, 0.0)
    return total.pow(1.0 / ord)  # a 0 entry made total inf, and the norm 0 (its gradient is 0 there)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """sum(|x|^ord)^(1/ord) over dim (every dim when None or empty): ord 2 (default), 1, inf (max |x|), -inf
    (min |x|), 0 (the number of nonzero entries) or any other real. dtype: computed and returned in that
    (floating, not narrower) dtype."""
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"{_FN}: argument 'ord' must be a real number, got {type(ord).__name__} ({ord!r})")
    x = _checks.floating_input(_FN, x, dtype)
    dims = _dims(x, dim)
    _check_identity(x, ord, dims)
    out = _norm(_checks.compute_dtype_input(x), float(ord), dims, keepdim)
    return out.to(x.dtype) if out.dtype != x.dtype else out
