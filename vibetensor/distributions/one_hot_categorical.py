"""OneHotCategorical: a Categorical whose samples are one-hot vectors (event shape (K,)); and its
straight-through variant, whose rsample passes gradients to probs."""
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor._size import Size
from vibetensor.distributions import constraints
from vibetensor.distributions.categorical import Categorical
from vibetensor.distributions.distribution import Distribution, forwarded
from vibetensor.nn import functional as F

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    """OneHotCategorical(probs=None, logits=None): probs / logits as Categorical's (normalized the same way);
    samples are float one-hot vectors in the parameter's dtype."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        def fill(new, shape):
            new._categorical = self._categorical.expand(shape)
        return self._expanded(OneHotCategorical, batch_shape, _instance, fill)

    _param, probs, logits, param_shape, mean = forwarded("_categorical", "_param", "probs", "logits", "param_shape",
                                                        "probs")

    @property
    def mode(self):
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(dim=-1), num_classes=probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=Size()):
        probs = self._categorical.probs
        indices = self._categorical.sample(Size(sample_shape))
        return F.one_hot(indices, self._categorical._num_events).to(probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])  # the index of the one

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        eye = F.one_hot(_factories.arange(n, dtype=_dtype.int64, device=self._param.device), n).to(self._param.dtype)
        values = eye.view((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n,) + tuple(self.batch_shape) + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """rsample is a one-hot sample whose gradient is that of probs (the straight-through estimator, Bengio et
    al. 2013): sample + (probs - probs.detach())."""
    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
