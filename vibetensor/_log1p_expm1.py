"""log1p, expm1 and logaddexp: log(1 + x), exp(x) - 1 and log(exp(a) + exp(b)) without the cancellation of
their direct forms near 0 (log(1 + 1e-10) is 0 in float32), composed of log and exp.

Note [log1p and expm1 from log and exp]
With u = 1 + x rounded, log(u) is the log of a number near, not at, 1 + x; Goldberg's correction multiplies by
x / (u - 1), the ratio of the true to the rounded argument, which is exact enough that the result is within a
few ulps of log1p(x) (Goldberg, "What every computer scientist should know about floating-point arithmetic",
Theorem 4). expm1 is its mirror (Kahan): (u - 1) * x / log(u) with u = exp(x). Where u rounds to 1 the result
is x itself. The derivatives are the functions' own, applied by _pointwise_derivatives.
"""
import math

from vibetensor import _C
from vibetensor._pointwise_derivatives import float_only, floating, pointwise

_ops = _C._ops


def _log1p_value(x):
    u = _ops.add(x, 1, 1)
    d = _ops.sub(u, 1, 1)
    at_one = _ops.eq(d, 0)
    # Goldberg's ratio x / d; where d is 0 the result is x, so divide by 1 there.
    corrected = _ops.mul(_ops.log(u), _ops.div(x, _ops.where(at_one, 1, d)))
    out = _ops.where(at_one, x, corrected)
    return _ops.where(_ops.eq(x, math.inf), math.inf, out)  # inf * inf / inf is nan


def _expm1_value(x):
    u = _ops.exp(x)
    d = _ops.sub(u, 1, 1)
    log_u = _ops.log(u)
    at_one = _ops.eq(d, 0)
    corrected = _ops.mul(d, _ops.div(x, _ops.where(at_one, 1, log_u)))
    out = _ops.where(at_one, x, corrected)
    out = _ops.where(_ops.eq(d, -1), -1, out)  # exp underflowed: log(0) = -inf
    return _ops.where(_ops.eq(u, math.inf), math.inf, out)


_log1p = pointwise("Log1p", _log1p_value, lambda g, x: _ops.div(g, _ops.add(x, 1, 1)))
_expm1 = pointwise("Expm1", _expm1_value, lambda g, x: _ops.mul(g, _ops.exp(x)))


def log1p(input):
    """log(1 + input), accurate for small input (Note [log1p and expm1 from log and exp])."""
    return _log1p(*floating("log1p", input))


def expm1(input):
    """exp(input) - 1, accurate for small input (Note [log1p and expm1 from log and exp])."""
    return _expm1(*floating("expm1", input))


def _logaddexp_value(a, b):
    m = _ops.maximum(a, b)
    rest = _log1p_value(_ops.exp(_ops.neg(_ops.abs(_ops.sub(a, b, 1)))))
    # Equal infinities: a - b is nan, and the answer is that infinity.
    return _ops.where(_ops.logical_and(_ops.eq(a, b), _ops.eq(_ops.abs(a), math.inf)), a, _ops.add(m, rest, 1))


# d/da log(e^a + e^b) = 1 / (1 + e^(b - a)): torch's formula, so the gradients agree where they are nan too.
_logaddexp = pointwise("Logaddexp", _logaddexp_value,
                       lambda g, a, b: _ops.div(g, _ops.add(_ops.exp(_ops.sub(b, a, 1)), 1, 1)),
                       lambda g, a, b: _ops.div(g, _ops.add(_ops.exp(_ops.sub(a, b, 1)), 1, 1)))


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow: max + log1p(exp(-|input - other|))."""
    return _logaddexp(*float_only("logaddexp", input, other))
