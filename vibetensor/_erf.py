"""erf, from the exact GELU kernel (gelu(x) = x / 2 * (1 + erf(x / sqrt 2))): vibetensor has no erf op.

Note [erf from gelu]
gelu(z * sqrt 2) / (z * sqrt 2) * 2 - 1 is erf(z) to a few ulps of 1: absolute accuracy, which is relative
accuracy only away from 0 (the kernel rounds 1 + erf(z) before the division). Below |z| < 1/4 erf's Maclaurin
series is used instead, 10 terms, each under 2e-18 of the sum there. |z| is clamped to 6, where erf is 1 in
double (gelu(inf) / inf is nan). The derivative is 2 / sqrt(pi) * exp(-z^2), applied by _pointwise_derivatives.
"""
import math

from vibetensor import _C
from vibetensor._pointwise_derivatives import floating, pointwise

_ops = _C._ops

_SMALL = 0.25
# erf(z) = 2 / sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1)): the coefficients of z^(2n), with 2 / sqrt(pi)
_SERIES = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(10)]


def _series(z):
    z2 = _ops.mul(z, z)
    acc = _ops.mul(z2, _SERIES[-1])
    for c in reversed(_SERIES[1:-1]):
        acc = _ops.mul(_ops.add(acc, c, 1), z2)
    return _ops.mul(_ops.add(acc, _SERIES[0], 1), z)


def _erf_value(z):
    small = _ops.lt(_ops.abs(z), _SMALL)
    x = _ops.mul(_ops.clamp(_ops.where(small, 1.0, z), -6.0, 6.0), math.sqrt(2))  # nonzero, finite (nan stays)
    from_gelu = _ops.sub(_ops.mul(_ops.div(_ops.gelu(x, "none"), x), 2), 1, 1)
    return _ops.where(small, _series(z), from_gelu)


_erf = pointwise("Erf", _erf_value,
                 lambda g, z: _ops.mul(g, _ops.mul(_ops.exp(_ops.neg(_ops.mul(z, z))), 2 / math.sqrt(math.pi))))


def erf(input):
    """The error function 2 / sqrt(pi) * integral_0^input exp(-t^2) dt (Note [erf from gelu])."""
    return _erf(*floating("erf", input))
