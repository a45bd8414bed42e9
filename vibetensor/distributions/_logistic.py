"""log1p, softplus and binary cross-entropy from logits, accurate for tiny and large arguments, with torch's
gradients (also at 0), for the Bernoulli distribution and its KL divergence.

Note [Logistic functions before vt.log1p]
vibetensor has no log1p op yet (it is being added beside F.softplus; switch these to vt.log1p and
F.softplus / F.binary_cross_entropy_with_logits once they land and have torch's gradient at 0).
- log1p(u): log(1 + u) loses the low digits of u when |u| is near the rounding error of 1 (for u = 1e-20,
  log(1 + u) is 0). The value is corrected to u * log(w) / (w - 1), w = 1 + u (Goldberg's formula, exact to
  a few ulps; u itself where w rounds to 1), a correction computed without grad, so the gradient is that of
  log(1 + u), 1 / (1 + u), which needs no correction.
- max(x, 0) is written (x + |x|) / 2, not relu(x): relu's gradient at 0 is 0, which would make softplus'(0)
  0 instead of sigmoid(0) = 1/2 (|x|'s gradient at 0 is 0, so the halves give 1/2 exactly).
"""
from vibetensor import _functional
from vibetensor.autograd.grad_mode import no_grad


def log1p(u):
    """log(1 + u), accurate for tiny u; the gradient is 1 / (1 + u)."""
    w = 1 + u
    rounded = w.log()
    with no_grad():
        d = w - 1
        exact = _functional.where(d == 0, u, u * rounded / _functional.where(d == 0, 1.0, d))
        # (at u = -1 or inf both are infinite: no correction, the rounded value is right)
        correction = _functional.where(_functional.isfinite(rounded), exact - rounded, 0.0)
    return rounded + correction


def softplus(x):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    a = x.abs()
    return (x + a) / 2 + log1p((-a).exp())


def binary_cross_entropy_with_logits(logits, target):
    """-(target * log(sigmoid(x)) + (1 - target) * log(1 - sigmoid(x))), elementwise, as torch's (reduction
    'none'): (1 - t) * x + max(-x, 0) + log1p(exp(-|x|)), the first two summed first (they cancel exactly for
    large |x|). Differentiable in both arguments."""
    a = logits.abs()
    return ((1 - target) * logits + (a - logits) / 2) + log1p((-a).exp())
