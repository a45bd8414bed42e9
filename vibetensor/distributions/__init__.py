"""vibetensor.distributions (torch.distributions): probability distributions with sampling, reparameterized
sampling, log-densities, entropies and KL divergences, composed of differentiable ops.

Families: Normal, Uniform, Bernoulli, Categorical, OneHotCategorical (and its straight-through variant),
Independent. Not here yet: families that need lgamma / digamma or gamma sampling (Beta, Gamma, Dirichlet, ...),
and Normal.cdf / icdf (erf)."""
from vibetensor.distributions import constraints, kl, utils  # noqa: F401
from vibetensor.distributions.bernoulli import Bernoulli
from vibetensor.distributions.categorical import Categorical
from vibetensor.distributions.distribution import Distribution
from vibetensor.distributions.independent import Independent
from vibetensor.distributions.kl import kl_divergence, register_kl
from vibetensor.distributions.normal import Normal
from vibetensor.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from vibetensor.distributions.uniform import Uniform

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "Uniform", "kl_divergence", "register_kl",
]
