"""Categorical distribution over {0, ..., K-1}, given by probs or logits along the last dim."""
import math

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor import _functional
from vibetensor._sampling import multinomial
from vibetensor._size import Size
from vibetensor._type_info import finfo
from vibetensor.distributions import constraints
from vibetensor.distributions.distribution import Distribution
from vibetensor.distributions.utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _event_parameter(name, value):
    """probs / logits must be tensors of at least one dim (the K categories are the last)."""
    if not isinstance(value, _C.Tensor):
        raise TypeError(f"`{name}` must be a Tensor, got {type(value).__name__}")
    if value.dim() < 1:
        raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
    return value


class Categorical(Distribution):
    """Categorical(probs=None, logits=None), exactly one of them. probs (non-negative, finite, a positive sum)
    are normalized to sum to 1 over the last dim; logits (unnormalized log-probabilities) are normalized so
    that their exp sums to 1. The other parameter is derived on first use. Samples are int64 indices."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = _event_parameter("probs", probs)
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = _event_parameter("logits", logits)
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_parameters(Categorical, batch_shape, _instance, ("probs", "logits"),
                                      param_tail=(self._num_events,))
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    def _undefined(self):
        """A categorical has no mean or variance (its values are labels): nan, as torch."""
        return _factories.full(self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mean(self):
        return self._undefined()

    @property
    def variance(self):
        return self._undefined()

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        shape = self._extended_shape(sample_shape)
        if sample_shape.numel() == 0 or shape.numel() == 0:
            return _factories.zeros(shape, dtype=_dtype.int64, device=self._param.device)
        probs_2d = self.probs.reshape(-1, self._num_events)
        samples_2d = multinomial(probs_2d, sample_shape.numel(), True).T  # (sample, batch)
        return samples_2d.reshape(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = _functional.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value.narrow(-1, 0, 1)).squeeze(-1)

    def entropy(self):
        # logits of probability 0 are -inf; clamped, 0 * finite gives the 0 that p log p has at 0.
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = _factories.arange(self._num_events, dtype=_dtype.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
