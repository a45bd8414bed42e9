"""Bernoulli distribution: 1 with probability probs, 0 otherwise (given by probs or by logits, the log-odds)."""
import math

from vibetensor import _factories
from vibetensor import _functional
from vibetensor._size import Size
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.distributions import constraints
from vibetensor.distributions.distribution import Distribution
from vibetensor.distributions.utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits
from vibetensor.nn import functional as _nn_functional

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """Bernoulli(probs=None, logits=None), exactly one of them (a number or a tensor; its shape is the batch
    shape). Samples are 0. or 1. in the parameter's dtype. log_prob and entropy are computed from the logits
    (binary cross-entropy), which stays finite and accurate where probs is near 0 or 1."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        batch_shape = self._broadcast_parameters(**{name: given})
        self._param = getattr(self, name)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_parameters(Bernoulli, batch_shape, _instance, ("probs", "logits"))
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return _functional.where(self.probs == 0.5, math.nan, mode)  # both values are modes: nan, as torch

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.expand(shape)
            u = _factories.rand(shape, dtype=probs.dtype, device=probs.device)
            return (u < probs).to(probs.dtype)  # P(u < p) = p for u uniform in [0, 1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_nn_functional.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return _nn_functional.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = _factories.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
