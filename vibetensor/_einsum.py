"""einsum: Einstein summation composed of views, sums and bmm, so autograd flows through it.

Note [einsum plan]
The equation is parsed into one letter list per operand (an ellipsis becomes letters of its own, aligned
from the right across operands, as broadcasting aligns dims) and the output's letters (implicit form: the
ellipsis, then the letters seen once, in alphabetical order). A letter repeated within one operand takes
that operand's diagonal. The operands are then contracted left to right, two at a time: letters that
neither the other operand, the output nor a later operand needs are summed away first; the rest are
batch letters (both operands, still needed), contracted letters (both, not needed) and each side's own;
one bmm of [batch, own_a, contracted] x [batch, contracted, own_b] contracts the pair. A letter of size 1
in one operand broadcasts against the other's (expanded first). The result is summed over letters the
output lacks and permuted into the output's order.
"""
import string

from vibetensor import _C

_ops = _C._ops
Tensor = _C.Tensor
_ELLIPSIS_LETTERS = "".join(chr(c) for c in range(0x3B1, 0x3B1 + 24))  # Greek: never in an equation


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): the equation {equation!r} names {len(terms)} operands but {len(operands)} "
                         "were given")
    ell_ndim = 0
    letters = []
    for term, op in zip(terms, operands):
        named = term.replace("...", "")
        bad = [c for c in named if c not in string.ascii_letters]
        if bad or term.count("...") > 1:
            raise ValueError(f"einsum(): invalid subscript {bad[0] if bad else '...'!r} in {equation!r} (expected "
                             "letters a-z, A-Z and at most one ellipsis per operand)")
        n_ell = op.ndim - len(named)
        if ("..." in term and n_ell < 0) or ("..." not in term and n_ell != 0):
            raise RuntimeError(f"einsum(): the subscripts {term!r} name {len(named)} dims but the operand has "
                               f"{op.ndim}")
        ell_ndim = max(ell_ndim, n_ell)
        letters.append((term, n_ell))
    ell = _ELLIPSIS_LETTERS[:ell_ndim]
    per_op = [list(t.replace("...", ell[ell_ndim - n:]) if n or "..." in t else t) for t, n in letters]
    if arrow:
        if any(c not in string.ascii_letters for c in rhs.replace("...", "")):
            raise ValueError(f"einsum(): invalid output subscripts {rhs!r} in {equation!r}")
        out = list(rhs.replace("...", ell))
        seen = set().union(*per_op) if per_op else set()
        missing = [c for c in out if c not in seen]
        if missing:
            raise ValueError(f"einsum(): output subscript {missing[0]!r} appears in no operand of {equation!r}")
        if len(set(out)) != len(out):
            raise ValueError(f"einsum(): output subscripts {rhs!r} repeat a letter")
    else:
        counts = {}
        for lst in per_op:
            for c in lst:
                counts[c] = counts.get(c, 0) + 1
        out = list(ell) + sorted(c for c, k in counts.items() if k == 1 and c not in ell)
    return per_op, out


def _diagonal(x, lets):
    """Takes the diagonal for each letter x's subscripts repeat (x * eye, summed over the second copy)."""
    while len(set(lets)) != len(lets):
        c = next(c for c in lets if lets.count(c) > 1)
        p = lets.index(c)
        q = lets.index(c, p + 1)
        n = x.shape[p]
        if x.shape[q] != n:
            raise RuntimeError(f"einsum(): subscript {c!r} is repeated with sizes {n} and {x.shape[q]}")
        eye_shape = [1] * x.ndim
        eye_shape[p], eye_shape[q] = n, n
        ar = _ops.arange(0, n, 1, None, x.device)
        eye = _ops.reshape(_ops.to_dtype(_ops.eq(_ops.unsqueeze(ar, 1), _ops.unsqueeze(ar, 0)), x.dtype), eye_shape)
        x = _ops.sum(_ops.mul(x, eye), [q], False, None)
        lets = lets[:q] + lets[q + 1:]
    return x, lets


def _sum_out(x, lets, keep):
    drop = [i for i, c in enumerate(lets) if c not in keep]
    if not drop:
        return x, lets
    return _ops.sum(x, drop, False, None), [c for c in lets if c in keep]


def _arranged(x, lets, order, sizes, shape):
    x = _ops.permute(x, [lets.index(c) for c in order])
    x = _ops.expand(x, [sizes[c] for c in order])
    return _ops.reshape(x, shape)


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


def _contract(a, la, b, lb, keep, sizes):
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    own_a = [c for c in la if c not in lb]
    own_b = [c for c in lb if c not in la]
    nb, na, nk, nbo = (_prod(sizes[c] for c in g) for g in (batch, own_a, summed, own_b))
    a3 = _arranged(a, la, batch + own_a + summed, sizes, [nb, na, nk])
    b3 = _arranged(b, lb, batch + summed + own_b, sizes, [nb, nk, nbo])
    out = _ops.bmm(a3, b3)
    lets = batch + own_a + own_b
    return _ops.reshape(out, [sizes[c] for c in lets]), lets


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (operands may also come as one list); Note [einsum plan]."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    per_op, out = _parse(equation, operands)
    sizes = {}
    tensors = []
    for x, lets in zip(operands, per_op):
        x, lets = _diagonal(x, lets)
        for c, n in zip(lets, x.shape):
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n not in (1, prev):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: subscript {c!r} has "
                                   f"size {prev} and {n}")
        tensors.append((x, lets))
    x, lets = tensors[0]
    for i, (y, ly) in enumerate(tensors[1:], start=1):
        later = set(out).union(*(set(lt) for _, lt in tensors[i + 1:]))
        x, lets = _contract(x, lets, y, ly, later, sizes)
    x, lets = _sum_out(x, lets, set(out))
    return x if lets == out else _ops.permute(x, [lets.index(c) for c in out])
