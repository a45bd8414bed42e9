"""Normal (Gaussian) distribution with mean loc and standard deviation scale."""
import math

from vibetensor import _factories
from vibetensor._erf import erf
from vibetensor._size import Size
from vibetensor.distributions import constraints
from vibetensor.distributions.distribution import Distribution

__all__ = ["Normal"]


class Normal(Distribution):
    """Normal(loc, scale): loc and scale are numbers or tensors, broadcast together (the batch shape). rsample is
    loc + eps * scale with eps standard normal, so gradients flow to loc and scale."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(self._broadcast_parameters(loc=loc, scale=scale), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(Normal, batch_shape, _instance, ("loc", "scale"))

    mean = mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _factories.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        raise NotImplementedError("Normal.icdf needs erfinv, which vibetensor does not have; cdf, log_prob, sample, "
                                  "rsample, entropy and kl_divergence are available")

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
