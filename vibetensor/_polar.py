"""atan2 and hypot: the angle and the length of the vector (other, input), composed of ops (vibetensor has no
atan kernel).

Note [atan from a rational fit]
atan(t) for t >= 0 is Cephes' atan: the argument is reduced to |t| <= 0.66 (t > tan(3 pi / 8): pi / 2 +
atan(-1 / t); t > 0.66: pi / 4 + atan((t - 1) / (t + 1))) and atan there is t + t^3 P(t^2) / Q(t^2), a
degree 4 / 5 rational fit accurate to double precision; the reduction constants carry the bits of pi / 2 and
pi / 4 that double drops (MOREBITS). atan2 takes atan(|y| / |x|) in [0, pi / 2] and places it in the quadrant
of the signs of x and y, signed zeros included, as C's atan2: atan2(0, -0) = pi, atan2(-0, 0) = -0. The
derivatives are torch's formulas (_pointwise_derivatives).
"""
import math

from vibetensor import _C
from vibetensor._pointwise_derivatives import float_only, floating, pointwise

_ops = _C._ops

_TAN_3PI_8 = 2.41421356237309504880
_MOREBITS = 6.123233995736765886130e-17
_P = [-8.750608600031904122785e-1, -1.615753718733365076637e1, -7.500855792314704667340e1,
      -1.228866684490136173410e2, -6.485021904942025371773e1]
_Q = [2.485846490142306297962e1, 1.650270098316988542046e2, 4.328810604912902668951e2,
      4.853903996359136964868e2, 1.945506571482613964425e2]  # the leading coefficient, 1, left out


def _horner(z, coefficients):
    """The polynomial with these coefficients, highest power first, at z."""
    acc = _ops.add(_ops.mul(z, coefficients[0]), coefficients[1], 1)
    for c in coefficients[2:]:
        acc = _ops.add(_ops.mul(acc, z), c, 1)
    return acc


def _atan_nonnegative(t):
    """atan(t) for t >= 0 or +inf (Note [atan from a rational fit])."""
    big = _ops.gt(t, _TAN_3PI_8)
    mid = _ops.logical_and(_ops.gt(t, 0.66), _ops.logical_not(big))
    safe = _ops.where(big, t, 1.0)  # -1 / t only where t is big
    x = _ops.where(big, _ops.div(-1.0, safe), _ops.where(mid, _ops.div(_ops.sub(t, 1, 1), _ops.add(t, 1, 1)), t))
    z = _ops.mul(x, x)
    poly = _ops.div(_ops.mul(z, _horner(z, _P)), _horner(z, [1.0] + _Q))
    r = _ops.add(_ops.mul(x, poly), x, 1)
    # base + extra: pi / 2 where big, pi / 4 where mid (masks in t's dtype: a where of two Python floats is float32)
    big, mid = _ops.to_dtype(big, t.dtype), _ops.to_dtype(mid, t.dtype)
    extra = _ops.add(_ops.mul(big, _MOREBITS), _ops.mul(mid, 0.5 * _MOREBITS), 1)
    base = _ops.add(_ops.mul(big, math.pi / 2), _ops.mul(mid, math.pi / 4), 1)
    return _ops.add(base, _ops.add(r, extra, 1), 1)


def _sign_bit(v):
    """v < 0, and -0 (whose reciprocal is -inf)."""
    return _ops.logical_or(_ops.lt(v, 0), _ops.logical_and(_ops.eq(v, 0), _ops.lt(_ops.div(1.0, v), 0)))


def _atan2_value(y, x):
    ay, ax = _ops.abs(y), _ops.abs(x)
    both_zero = _ops.logical_and(_ops.eq(ay, 0), _ops.eq(ax, 0))
    both_inf = _ops.logical_and(_ops.eq(ay, math.inf), _ops.eq(ax, math.inf))
    # 0 / 0 and inf / inf are nan; their angles are those of the ratios 0 and 1.
    ratio = _ops.where(both_zero, 0.0, _ops.where(both_inf, 1.0, _ops.div(ay, _ops.where(both_zero, 1.0, ax))))
    angle = _atan_nonnegative(ratio)
    angle = _ops.where(_sign_bit(x), _ops.sub(math.pi, angle, 1), angle)
    return _ops.where(_sign_bit(y), _ops.neg(angle), angle)


def _atan2_recip(y, x):
    """1 / (x^2 + y^2), 0 where that is inf (torch's atan2 gradient at the origin is 0)."""
    r = _ops.div(1.0, _ops.add(_ops.mul(x, x), _ops.mul(y, y), 1))
    return _ops.where(_ops.eq(r, math.inf), 0.0, r)


_atan2 = pointwise("Atan2", _atan2_value,
                   lambda g, y, x: _ops.mul(g, _ops.mul(x, _atan2_recip(y, x))),
                   lambda g, y, x: _ops.mul(g, _ops.mul(_ops.neg(y), _atan2_recip(y, x))))


def atan2(input, other):
    """The angle of the point (other, input) from the x axis, in [-pi, pi] (Note [atan from a rational fit])."""
    return _atan2(*floating("atan2", input, other))


def _hypot_value(a, b):
    a, b = _ops.abs(a), _ops.abs(b)
    big, small = _ops.maximum(a, b), _ops.minimum(a, b)
    # big * sqrt(1 + (small / big)^2) neither overflows nor underflows where a^2 + b^2 would.
    r = _ops.div(small, _ops.where(_ops.eq(big, 0), 1.0, big))
    out = _ops.mul(big, _ops.sqrt(_ops.add(_ops.mul(r, r), 1, 1)))
    # C's hypot: an infinite side makes the length inf, even beside a nan.
    return _ops.where(_ops.logical_or(_ops.eq(a, math.inf), _ops.eq(b, math.inf)), math.inf, out)


_hypot = pointwise("Hypot", _hypot_value,
                   lambda g, a, b: _ops.mul(g, _ops.div(a, _hypot_value(a, b))),
                   lambda g, a, b: _ops.mul(g, _ops.div(b, _hypot_value(a, b))))


def hypot(input, other):
    """sqrt(input^2 + other^2) without overflow or underflow in the squares."""
    return _hypot(*float_only("hypot", input, other))
