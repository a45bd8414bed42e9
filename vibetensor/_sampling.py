"""multinomial: draws category indices from rows of non-negative weights, with vibetensor's generator.

Note [Multinomial sampling]
Composed of ops, so the draw follows vt.manual_seed as every other random op does (the numbers are not
torch's: the generators differ; the distribution is the same).
- with replacement: the index of the first category whose normalized cumulative weight exceeds a uniform
  u in [0, 1). The cumulative sums are divided by their last element, which makes the last exactly 1 > u,
  so a rounding in the sums can never yield an index past the end, and a category of weight 0 is never
  the first to exceed u.
- without replacement: the num_samples largest of p / q with q exponential (the exponential race, as
  torch's CPU kernel does): categories of weight 0 come after every positive one, in random order, as in
  torch.
The input is checked first (a read back to the host, as torch's CPU kernel checks it).
"""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad

_ops = _C._ops


def _check(input, num_samples, replacement):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a {input.ndim}-D tensor of shape {tuple(input.shape)}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"(num_samples={num_samples}, {categories} categories)")
    p = _ops.to_dtype(input, _dtype.float64)
    finite_nonnegative = _ops.logical_and(_ops.ge(p, 0.0), _ops.lt(p, float("inf")))  # (False for nan)
    if _ops.sum(_ops.logical_not(finite_nonnegative), None, False, None).item():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if categories == 0 or _ops.sum(_ops.le(_ops.sum(p, [-1], False, None), 0.0), None, False, None).item():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return p


def _uniform(shape, device, generator):
    if generator is None:
        return _ops.rand(shape, _dtype.float64, device)
    return _factories.rand(shape, dtype=_dtype.float64, device=device, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """num_samples category indices (int64) per row of input (1-D: one row, 2-D: a row each); Note [Multinomial sampling]."""
    num_samples = num_samples.__index__()
    with no_grad():
        p = _check(input, num_samples, replacement)
        rows = p if p.ndim == 2 else _ops.unsqueeze(p, 0)
        n_rows = rows.shape[0]
        if replacement:
            cdf = _ops.cumsum(rows, -1, None)
            cdf = _ops.div(cdf, _ops.narrow(cdf, -1, cdf.shape[-1] - 1, 1))
            u = _uniform([n_rows, num_samples, 1], rows.device, generator)
            out = _ops.sum(_ops.le(_ops.unsqueeze(cdf, 1), u), [-1], False, None)
        else:
            u = _uniform(list(rows.shape), rows.device, generator)
            q = _ops.clamp(_ops.neg(_ops.log(_ops.sub(1.0, u, 1))), 1e-300, None)  # exponential, never 0
            out = _ops.narrow(_ops.sort(_ops.div(rows, q), -1, True, True)[1], -1, 0, num_samples)
        return out if p.ndim == 2 else _ops.squeeze(out, [0])
