"""vibetensor.distributions against torch.distributions on the same parameters: log_prob, entropy, moments and
kl_divergence (values and gradients with respect to the parameters, through check_op), batch / event / sample
shapes and dtypes, the statistics of many draws (the generators differ: statistics, not values), rsample
gradients, expand, enumerate_support, and the argument checks (validate_args) raising what torch raises."""
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.distributions as td

import vibetensor as vt
import vibetensor.distributions as D
from harness import check_op, rand, randn, to_numpy, to_torch, to_vt

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.float64: {}}


def _one_hot(index, k, dtype):
    return torch.nn.functional.one_hot(index, k).to(dtype)


# name -> (build(module, *params), params(dtype), a value in the support(dtype, params), value differentiable)
FAMILIES = {
    "normal": (lambda m, loc, scale: m.Normal(loc, scale),
               lambda dt: [randn((3, 4), dt, seed=1), rand((3, 4), dt, 0.5, 2.0, seed=2)],
               lambda dt, ps: randn((2, 3, 4), dt, seed=3), True),
    "normal_broadcast": (lambda m, loc, scale: m.Normal(loc, scale),
                         lambda dt: [randn((4,), dt, seed=1), rand((3, 1), dt, 0.5, 2.0, seed=2)],
                         lambda dt, ps: randn((3, 4), dt, seed=3), True),
    "uniform": (lambda m, low, high: m.Uniform(low, high),
                lambda dt: [rand((3, 4), dt, -2.0, 0.0, seed=1), rand((3, 4), dt, 0.5, 2.0, seed=2)],
                lambda dt, ps: ps[0] + rand((3, 4), dt, 0.0, 1.0, seed=3) * (ps[1] - ps[0]), False),
    "bernoulli_probs": (lambda m, p: m.Bernoulli(probs=p),
                        lambda dt: [rand((3, 4), dt, 0.05, 0.95, seed=1)],
                        lambda dt, ps: (rand((3, 4), dt, 0.0, 1.0, seed=3) > 0.5).to(dt), False),
    "bernoulli_logits": (lambda m, x: m.Bernoulli(logits=x),
                         lambda dt: [randn((3, 4), dt, seed=1, scale=3.0)],
                         lambda dt, ps: (rand((2, 3, 4), dt, 0.0, 1.0, seed=3) > 0.5).to(dt), False),
    "bernoulli_logits_at_0_and_far": (  # logit 0: the gradient is sigmoid(0) - value there, not a kink's
        lambda m, x: m.Bernoulli(logits=x),
        lambda dt: [torch.tensor([0.0, 0.0, 2.0, -30.0, 30.0, -200.0], dtype=dt)],
        lambda dt, ps: torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0, 0.0], dtype=dt), False),
    "categorical_probs": (lambda m, p: m.Categorical(probs=p),
                          lambda dt: [rand((3, 5), dt, 0.05, 1.0, seed=1)],  # unnormalized: normalized as torch
                          lambda dt, ps: torch.tensor([[0, 4, 2], [1, 3, 0]]), False),
    "categorical_logits": (lambda m, x: m.Categorical(logits=x),
                           lambda dt: [randn((2, 3, 5), dt, seed=1, scale=2.0)],
                           lambda dt, ps: torch.tensor([0, 4, 2]), False),
    "one_hot_categorical": (lambda m, x: m.OneHotCategorical(logits=x),
                            lambda dt: [randn((3, 5), dt, seed=1)],
                            lambda dt, ps: _one_hot(torch.tensor([4, 0, 2]), 5, dt), False),
    "independent_normal": (lambda m, loc, scale: m.Independent(m.Normal(loc, scale), 1),
                           lambda dt: [randn((3, 4), dt, seed=1), rand((3, 4), dt, 0.5, 2.0, seed=2)],
                           lambda dt, ps: randn((2, 3, 4), dt, seed=3), True),
}


def _params(name, dtype):
    return [p.requires_grad_() for p in FAMILIES[name][1](dtype)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FAMILIES)
def test_log_prob_matches_torch_with_gradients(name, dtype, device):
    build, params, value_of, value_grad = FAMILIES[name]
    ps = _params(name, dtype)
    value = value_of(dtype, [p.detach() for p in ps]).requires_grad_(value_grad)
    check_op(lambda *a: build(D, *a[:-1]).log_prob(a[-1]), lambda *a: build(td, *a[:-1]).log_prob(a[-1]),
             ps + [value], device=device, tol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FAMILIES)
def test_entropy_and_moments_match_torch_with_gradients(name, dtype, device):
    build = FAMILIES[name][0]

    def summary(m):
        return lambda *ps: (lambda d: (d.entropy(), d.mean, d.variance, d.stddev, d.perplexity()))(build(m, *ps))
    check_op(summary(D), summary(td), _params(name, dtype), device=device, tol=TOL[dtype])


@pytest.mark.parametrize("name", FAMILIES)
def test_mode_shapes_and_support_match_torch(name):
    build, params, value_of, _ = FAMILIES[name]
    ps = params(torch.float64)
    d, ref = build(D, *[to_vt(p) for p in ps]), build(td, *ps)
    assert tuple(d.batch_shape) == tuple(ref.batch_shape) and tuple(d.event_shape) == tuple(ref.event_shape)
    assert isinstance(d.batch_shape, vt.Size)
    assert d.has_rsample == ref.has_rsample and d.has_enumerate_support == ref.has_enumerate_support
    if name != "uniform":  # (torch's Uniform mode is nan: compared below with equal_nan)
        np.testing.assert_array_equal(to_numpy(d.mode), ref.mode.numpy())
    else:
        assert np.isnan(to_numpy(d.mode)).all() and d.mode.shape == ref.mode.shape
    value = value_of(torch.float64, ps)
    assert to_numpy(d.support.check(to_vt(value))).tolist() == ref.support.check(value).tolist()


@pytest.mark.parametrize("name", ["categorical_probs", "bernoulli_logits", "one_hot_categorical"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_matches_torch(name, expand):
    build, params, _, _ = FAMILIES[name]
    ps = params(torch.float32)
    got, want = build(D, *[to_vt(p) for p in ps]).enumerate_support(expand), build(td, *ps).enumerate_support(expand)
    assert got.dtype == vt.tensor(want.numpy()).dtype
    np.testing.assert_array_equal(to_numpy(got), want.numpy())


# ---- KL divergence -------------------------------------------------------------------------------------------

KL_PAIRS = {
    "normal": (lambda m, a, b, c, e: (m.Normal(a, b), m.Normal(c, e)),
               lambda dt: [randn((3, 4), dt, seed=1), rand((3, 4), dt, 0.5, 2.0, seed=2), randn((4,), dt, seed=3),
                           rand((3, 4), dt, 0.5, 2.0, seed=4)]),
    "categorical": (lambda m, x, y: (m.Categorical(logits=x), m.Categorical(logits=y)),
                    lambda dt: [randn((3, 5), dt, seed=1), randn((3, 5), dt, seed=2)]),
    "categorical_probs_with_zeros": (
        lambda m, p, q: (m.Categorical(probs=p), m.Categorical(probs=q)),
        lambda dt: [torch.tensor([[0.2, 0.0, 0.8], [0.5, 0.5, 0.0]], dtype=dt),
                    torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.3, 0.4]], dtype=dt)]),
    "categorical_q_zero": (lambda m, p, q: (m.Categorical(probs=p), m.Categorical(probs=q)),
                           lambda dt: [torch.tensor([0.2, 0.3, 0.5], dtype=dt),
                                       torch.tensor([0.5, 0.0, 0.5], dtype=dt)]),
    "bernoulli": (lambda m, p, q: (m.Bernoulli(probs=p), m.Bernoulli(probs=q)),
                  lambda dt: [rand((3, 4), dt, 0.05, 0.95, seed=1), rand((3, 4), dt, 0.05, 0.95, seed=2)]),
    "bernoulli_logits": (lambda m, x, y: (m.Bernoulli(logits=x), m.Bernoulli(logits=y)),
                         lambda dt: [randn((5,), dt, seed=1, scale=4.0), randn((5,), dt, seed=2, scale=4.0)]),
    "bernoulli_edges": (lambda m, p, q: (m.Bernoulli(probs=p), m.Bernoulli(probs=q)),
                        lambda dt: [torch.tensor([0.0, 1.0, 0.3, 0.3, 0.0], dtype=dt),
                                    torch.tensor([0.5, 0.5, 0.0, 1.0, 0.0], dtype=dt)]),
    "uniform": (lambda m, a, b, c, e: (m.Uniform(a, b), m.Uniform(c, e)),
                lambda dt: [torch.tensor([0.0, -1.0, 0.5], dtype=dt), torch.tensor([1.0, 1.0, 2.0], dtype=dt),
                            torch.tensor([-1.0, -0.5, 0.0], dtype=dt), torch.tensor([2.0, 1.0, 3.0], dtype=dt)]),
    "one_hot_categorical": (lambda m, x, y: (m.OneHotCategorical(logits=x), m.OneHotCategorical(logits=y)),
                            lambda dt: [randn((2, 4), dt, seed=1), randn((2, 4), dt, seed=2)]),
    "independent_normal": (lambda m, a, b, c, e: (m.Independent(m.Normal(a, b), 2), m.Independent(m.Normal(c, e), 2)),
                           lambda dt: [randn((2, 3, 4), dt, seed=1), rand((2, 3, 4), dt, 0.5, 2.0, seed=2),
                                       randn((2, 3, 4), dt, seed=3), rand((2, 3, 4), dt, 0.5, 2.0, seed=4)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_divergence_matches_torch_with_gradients(name, dtype, device):
    build, params = KL_PAIRS[name]
    ps = [p.requires_grad_() for p in params(dtype)]
    check_op(lambda *a: D.kl_divergence(*build(D, *a)), lambda *a: td.kl_divergence(*build(td, *a)), ps,
             device=device, tol=TOL[dtype])


def test_kl_divergence_is_infinite_where_torch_is():
    p = D.Uniform(vt.tensor([0.0, 0.0]), vt.tensor([1.0, 3.0]))
    q = D.Uniform(vt.tensor([0.5, -1.0]), vt.tensor([2.0, 2.0]))
    assert to_numpy(D.kl_divergence(p, q)).tolist() == [math.inf, math.inf]  # p's interval leaves q's
    c = D.kl_divergence(D.Categorical(probs=vt.tensor([0.5, 0.5])), D.Categorical(probs=vt.tensor([1.0, 0.0])))
    assert c.item() == math.inf


def test_kl_divergence_of_unregistered_pair_raises_as_torch():
    with pytest.raises(NotImplementedError):
        td.kl_divergence(td.Normal(0.0, 1.0), td.Categorical(logits=torch.zeros(3)))
    with pytest.raises(NotImplementedError, match="p type Normal and q type Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(logits=vt.zeros(3)))
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        n = D.Normal(vt.zeros(2, 3), 1.0)
        D.kl_divergence(D.Independent(n, 1), D.Independent(n, 2))


def test_register_kl_picks_the_most_specific_pair():
    class Wide(D.Normal):
        pass

    @D.register_kl(Wide, D.Normal)
    def _kl_wide_normal(p, q):
        return vt.full(p.batch_shape, 7.0)

    n = D.Normal(vt.zeros(2), vt.ones(2))
    w = Wide(vt.zeros(2), vt.ones(2))
    assert to_numpy(D.kl_divergence(w, n)).tolist() == [7.0, 7.0]
    assert to_numpy(D.kl_divergence(n, w)).tolist() == [0.0, 0.0]  # (Normal, Normal) still serves the reverse
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# ---- sampling ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("name", FAMILIES)
def test_sample_shape_and_dtype_match_torch(name, sample_shape, device):
    build, params, _, _ = FAMILIES[name]
    ps = params(torch.float64)
    vps = [to_vt(p, device, requires_grad=True) for p in ps]
    d, ref = build(D, *vps), build(td, *[p.requires_grad_() for p in ps])
    got, want = d.sample(sample_shape), ref.sample(sample_shape)
    assert tuple(got.shape) == tuple(want.shape) == tuple(d._extended_shape(sample_shape))
    assert to_torch(got).dtype == want.dtype and str(got.device) == str(vt.device(device))
    assert not got.requires_grad
    if ref.has_rsample:
        r = d.rsample(sample_shape)
        assert tuple(r.shape) == tuple(want.shape) and r.requires_grad


def _check_moments(draws, mean, var, sigmas=5.0):
    """The sample mean and variance of draws (n along dim 0) within `sigmas` standard errors of mean and var."""
    n = draws.shape[0]
    m = draws.mean(0)
    assert np.all(np.abs(m - mean) <= sigmas * np.sqrt(var / n) + 1e-12), (m, mean)
    centered = draws - m
    s2 = (centered ** 2).mean(0)
    se_var = np.sqrt(np.maximum((centered ** 4).mean(0) - s2 ** 2, 0) / n)
    assert np.all(np.abs(s2 - var) <= sigmas * se_var + 1e-12), (s2, var)


@pytest.mark.parametrize("name", ["normal", "uniform", "bernoulli_probs", "one_hot_categorical"])
def test_sample_statistics_match_the_distribution(name, device):
    build, params, _, _ = FAMILIES[name]
    ps = params(torch.float64)
    vt.manual_seed(123)
    d, ref = build(D, *[to_vt(p, device) for p in ps]), build(td, *ps)
    draws = to_numpy(d.sample((20000,)))
    _check_moments(draws, ref.mean.numpy(), ref.variance.numpy())
    assert to_numpy(d.support.check(to_vt(torch.from_numpy(draws)))).all()


def test_categorical_frequencies_match_the_probabilities(device):
    probs = torch.tensor([[0.1, 0.0, 0.3, 0.6], [0.25, 0.25, 0.25, 0.25]], dtype=torch.float64)
    vt.manual_seed(5)
    s = to_numpy(D.Categorical(probs=to_vt(probs, device)).sample((20000,)))
    assert s.shape == (20000, 2) and s.min() >= 0 and s.max() <= 3
    for row in range(2):
        freq = np.bincount(s[:, row], minlength=4) / s.shape[0]
        p = probs[row].numpy()
        assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / s.shape[0]) + 1e-12), (freq, p)
    assert (s[:, 0] != 1).all()  # a category of probability 0 is never drawn


def test_samples_follow_manual_seed():
    d = D.Normal(vt.zeros(3), vt.ones(3))
    vt.manual_seed(9)
    a = d.sample((4,))
    vt.manual_seed(9)
    assert vt.equal(a, d.sample((4,)))


def test_normal_rsample_gradient_reaches_loc_and_scale():
    loc = vt.tensor([0.5, -1.0], requires_grad=True)
    scale = vt.tensor([2.0, 0.5], requires_grad=True)
    x = D.Normal(loc, scale).rsample((1000,))
    x.sum().backward()  # x = loc + eps * scale: d/dloc = 1000, d/dscale = sum(eps)
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(to_numpy(loc.grad), [1000.0, 1000.0])
    np.testing.assert_allclose(to_numpy(scale.grad), to_numpy(eps.sum(0)), rtol=1e-4, atol=1e-3)
    assert not D.Normal(loc, scale).sample((3,)).requires_grad


def test_uniform_rsample_gradient_reaches_low_and_high():
    low, high = vt.tensor([0.0, -2.0], requires_grad=True), vt.tensor([1.0, 2.0], requires_grad=True)
    x = D.Uniform(low, high).rsample((500,))
    x.sum().backward()  # x = low + u * (high - low): d/dlow = sum(1 - u), d/dhigh = sum(u)
    u = (x.detach() - low.detach()) / (high.detach() - low.detach())
    np.testing.assert_allclose(to_numpy(high.grad), to_numpy(u.sum(0)), rtol=1e-4)
    np.testing.assert_allclose(to_numpy(low.grad), to_numpy((1 - u).sum(0)), rtol=1e-4)


def test_straight_through_rsample_has_the_gradient_of_probs():
    logits = randn((2, 4), torch.float64, seed=1)
    w = randn((3, 2, 4), torch.float64, seed=2)
    ref = logits.clone().requires_grad_()
    (torch.softmax(ref, -1) * w).sum().backward()
    x = to_vt(logits, requires_grad=True)
    s = D.OneHotCategoricalStraightThrough(logits=x).rsample((3,))
    (s * to_vt(w)).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), ref.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(to_numpy(s.detach()).sum(-1), np.ones((3, 2)))  # one-hot values


def test_reparameterized_elbo_gradient_drives_a_vae_style_update():
    """A VAE's loss: a reparameterized sample scored under a prior, plus KL to the prior; gradients are finite and
    the same as torch's for the same noise (eps passed in, so the generators do not matter)."""
    mu, log_sigma, eps = randn((4, 3), seed=1), randn((4, 3), seed=2, scale=0.3), randn((4, 3), seed=3)

    def loss(m, mu, log_sigma, eps):
        q = m.Normal(mu, log_sigma.exp())
        z = q.loc + eps * q.scale
        prior = m.Normal(0.0, 1.0)
        return (m.kl_divergence(q, m.Normal(mu * 0, mu * 0 + 1)).sum() - prior.log_prob(z).sum())
    check_op(lambda a, b, e: loss(D, a, b, e), lambda a, b, e: loss(td, a, b, e),
             [mu.requires_grad_(), log_sigma.requires_grad_(), eps], tol=TOL[torch.float32])


# ---- expand --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["normal", "uniform", "bernoulli_logits", "categorical_probs", "one_hot_categorical",
                                  "independent_normal"])
def test_expand_matches_torch(name):
    build, params, _, _ = FAMILIES[name]
    ps = params(torch.float64)
    d, ref = build(D, *[to_vt(p) for p in ps]), build(td, *ps)
    shape = (2,) + tuple(ref.batch_shape)
    e, re = d.expand(shape), ref.expand(shape)
    assert type(e) is type(d) and tuple(e.batch_shape) == tuple(re.batch_shape)
    assert tuple(e.event_shape) == tuple(re.event_shape) and e._validate_args == d._validate_args
    np.testing.assert_allclose(to_numpy(e.entropy()), re.entropy().numpy(), rtol=1e-12)
    assert tuple(e.sample().shape) == tuple(re.sample().shape)


# ---- argument checks -----------------------------------------------------------------------------------------

BAD = {
    "normal_negative_scale": lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, -1.0])),
    "normal_zero_scale": lambda m, T: m.Normal(0.0, 0.0),
    "normal_nan_loc": lambda m, T: m.Normal(T([math.nan]), T([1.0])),
    "normal_shape_mismatch": lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, 1.0, 1.0])),
    "normal_value_shape_mismatch": lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, 1.0])).log_prob(T([0.0, 1.0, 2.0])),
    "normal_value_not_tensor": lambda m, T: m.Normal(T([0.0]), T([1.0])).log_prob(0.5),
    "uniform_low_not_below_high": lambda m, T: m.Uniform(T([0.0, 2.0]), T([1.0, 2.0])),
    "uniform_value_outside": lambda m, T: m.Uniform(T([0.0]), T([1.0])).log_prob(T([1.5])),
    "bernoulli_probs_above_one": lambda m, T: m.Bernoulli(probs=T([0.5, 1.5])),
    "bernoulli_value_not_binary": lambda m, T: m.Bernoulli(probs=T([0.5])).log_prob(T([0.5])),
    "bernoulli_both_parameters": lambda m, T: m.Bernoulli(probs=T([0.5]), logits=T([0.0])),
    "bernoulli_no_parameter": lambda m, T: m.Bernoulli(),
    "categorical_negative_probs": lambda m, T: m.Categorical(probs=T([0.5, -0.1, 0.6])),
    "categorical_zero_dim_probs": lambda m, T: m.Categorical(probs=T(1.0)),
    "categorical_value_out_of_range": lambda m, T: m.Categorical(probs=T([0.5, 0.5])).log_prob(T([2.0])),
    "categorical_value_not_integer": lambda m, T: m.Categorical(probs=T([0.5, 0.5])).log_prob(T([0.5])),
    "categorical_both_parameters": lambda m, T: m.Categorical(probs=T([0.5, 0.5]), logits=T([0.0, 0.0])),
    "one_hot_value_not_one_hot": lambda m, T: m.OneHotCategorical(probs=T([0.5, 0.5])).log_prob(T([1.0, 1.0])),
    "one_hot_value_wrong_event": lambda m, T: m.OneHotCategorical(probs=T([0.5, 0.5])).log_prob(T([1.0, 0.0, 0.0])),
    "independent_too_many_dims": lambda m, T: m.Independent(m.Normal(T([0.0, 1.0]), T([1.0, 1.0])), 2),
    "independent_value_outside": lambda m, T: m.Independent(m.Uniform(T([[0.0, 0.0]]), T([[1.0, 1.0]])), 1).log_prob(
        T([[0.5, 2.0]])),
}


def _raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e)
    return None


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_raise_what_torch_raises(name):
    want = _raised(lambda: BAD[name](td, lambda v: torch.tensor(v)))
    assert want is not None, "the case must fail in torch"
    with pytest.raises(want) as info:
        BAD[name](D, lambda v: vt.tensor(v))
    assert str(info.value)  # a message, not a bare exception


def test_validation_messages_name_the_parameter_and_constraint():
    with pytest.raises(ValueError, match=r"Expected parameter scale .* to satisfy the constraint "
                                         r"GreaterThan\(lower_bound=0.0\)"):
        D.Normal(vt.zeros(2), vt.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"Expected value argument .* within the support \(IntegerInterval"):
        D.Categorical(logits=vt.zeros(3)).log_prob(vt.tensor([3]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both"):
        D.Categorical()


def test_validate_args_false_skips_the_checks_as_torch():
    got = D.Normal(vt.tensor([0.0]), vt.tensor([-1.0]), validate_args=False).log_prob(vt.tensor([0.5]))
    want = td.Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=False).log_prob(torch.tensor([0.5]))
    assert np.isnan(to_numpy(got)).all() and torch.isnan(want).all()  # log of a negative scale, in both
    b = D.Bernoulli(probs=vt.tensor([0.3]), validate_args=False)
    np.testing.assert_allclose(to_numpy(b.log_prob(vt.tensor([0.5]))),
                               td.Bernoulli(probs=torch.tensor([0.3]), validate_args=False).log_prob(
                                   torch.tensor([0.5])).numpy(), rtol=1e-6)


def test_default_validation_can_be_switched_off_and_on():
    assert D.Distribution._validate_args is True
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)  # no check
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="True or False"):
        D.Distribution.set_default_validate_args("yes")


def test_unnormalized_probs_are_normalized_and_the_simplex_check_agrees_with_torch():
    p = [[1.0, 3.0], [2.0, 2.0]]
    c, ref = D.Categorical(probs=vt.tensor(p)), td.Categorical(probs=torch.tensor(p))
    np.testing.assert_allclose(to_numpy(c.probs), ref.probs.numpy())
    for value in ([0.5, 0.5], [0.7, 0.7], [1.2, -0.2], [[0.3, 0.7], [0.3, 0.6]]):
        got = D.constraints.simplex.check(vt.tensor(value))
        assert to_numpy(got).tolist() == td.constraints.simplex.check(torch.tensor(value)).tolist()


def test_logits_and_probs_derive_each_other_lazily_as_torch():
    x = randn((2, 3), torch.float64, seed=4)
    c, ref = D.Categorical(logits=to_vt(x)), td.Categorical(logits=x)
    assert "probs" not in c.__dict__
    np.testing.assert_allclose(to_numpy(c.probs), ref.probs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(c.logits), ref.logits.numpy(), rtol=1e-12)
    b, bref = D.Bernoulli(probs=vt.tensor([1e-20, 0.5, 1.0], dtype=vt.float64)), td.Bernoulli(
        probs=torch.tensor([1e-20, 0.5, 1.0], dtype=torch.float64))
    np.testing.assert_allclose(to_numpy(b.logits), bref.logits.numpy(), rtol=1e-12)  # clamped to eps, 1 - eps
    assert "Normal(loc: vibetensor.Size([2]), scale: vibetensor.Size([2]))" == repr(D.Normal(vt.zeros(2), vt.ones(2)))


def test_log_prob_near_certainty_keeps_its_relative_accuracy():
    """log_prob of the likely outcome of a confident Bernoulli is a tiny negative number (-exp(-40) ~ -4e-18),
    which log(1 + u) rounds to 0 (torch's CPU kernel does for logit -40, value 0): compared with numpy's
    logaddexp (-log sigmoid(x) = logaddexp(0, -x)) and no absolute tolerance."""
    x = np.array([-40.0, 40.0, -700.0, 1e-3, 3.0])
    v = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    exact = -(v * np.logaddexp(0, -x) + (1 - v) * np.logaddexp(0, x))
    got = to_numpy(D.Bernoulli(logits=vt.tensor(x)).log_prob(vt.tensor(v)))
    np.testing.assert_allclose(got, exact, rtol=1e-14, atol=0)


def test_an_rl_script_runs_on_torch_names_through_install_as_torch(tmp_path):
    """torch.distributions, torch.linalg and torch.testing are vibetensor's under install_as_torch (in a fresh
    process: the alias must not reach this one, which imports the real torch)."""
    script = tmp_path / "policy_gradient.py"
    script.write_text(textwrap.dedent("""
        import vibetensor.compat
        vibetensor.compat.install_as_torch()
        import torch
        from torch.distributions import Categorical, Normal, kl_divergence
        from torch.distributions.normal import Normal as ModuleNormal
        assert ModuleNormal is Normal and torch.distributions.Normal.__module__ == "vibetensor.distributions.normal"
        torch.manual_seed(0)
        policy = torch.nn.Linear(4, 3)
        opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
        obs = torch.randn(16, 4)
        for step in range(3):
            dist = Categorical(logits=policy(obs))
            loss = -(dist.log_prob(dist.sample()) * torch.randn(16)).mean() - 0.01 * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        mu = torch.zeros(3, requires_grad=True)
        z = Normal(mu, torch.ones(3)).rsample((8,))
        (z.sum() + kl_divergence(Normal(mu, torch.ones(3)), Normal(torch.ones(3), torch.ones(3))).sum()).backward()
        torch.testing.assert_close(mu.grad, torch.full((3,), 7.0))  # 8 draws, and d KL / d mu = mu - 1
        torch.testing.assert_close(torch.linalg.norm(torch.ones(3, 4)), torch.tensor(12.0).sqrt())
        print("ok")
    """))
    out = subprocess.run([sys.executable, "-P", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_cdf_matches_torch_with_gradients(dtype, device):
    loc = torch.tensor([0.0, 1.5, -2.0], dtype=dtype, requires_grad=True)
    scale = torch.tensor([1.0, 0.5, 3.0], dtype=dtype, requires_grad=True)
    value = torch.tensor([[0.3, 1.0, -9.0], [-1.0, 2.5, 4.0]], dtype=dtype, requires_grad=True)
    check_op(lambda l, s, v: D.Normal(l, s).cdf(v), lambda l, s, v: td.Normal(l, s).cdf(v), [loc, scale, value],
             device=device, tol=TOL[dtype])
    with pytest.raises(NotImplementedError, match="Normal.icdf needs erfinv"):
        D.Normal(0.0, 1.0).icdf(vt.tensor([0.5]))
