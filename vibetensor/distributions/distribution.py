"""Distribution: the base class of the probability distributions (torch.distributions.Distribution).

A distribution has a batch_shape (independent distributions of one family, batched over its parameters) and
an event_shape (the shape of one draw). sample(sample_shape) returns sample_shape + batch_shape + event_shape;
rsample draws the same way but differentiably in the parameters (reparameterized), where the family allows it.
With validate_args (on by default, as torch's under `python` without -O) the parameters are checked against
arg_constraints at construction and log_prob's value against the support: a ValueError names the parameter,
the constraint and the values."""
import numbers
import warnings

from vibetensor import _C
from vibetensor._size import Size
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.distributions import constraints
from vibetensor.distributions.utils import broadcast_all, lazy_property

__all__ = ["Distribution"]


def _all_true(valid):
    return bool(valid.all().item())


def _missing(what, verb="implement"):
    """A member a family defines: the base's raises NotImplementedError naming the family."""
    def missing(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not {verb} {what}")
    missing.__name__ = what
    return missing


def forwarded(holder, *names):
    """Read-only properties, one per name, that are that name of the distribution held in attribute `holder`
    (wrappers such as Independent and OneHotCategorical answer through the distribution they wrap)."""
    return tuple(property(lambda self, name=name: getattr(getattr(self, holder), name), doc=f"self.{holder}.{name}")
                 for name in names)


class Distribution:
    """Abstract base class of the distributions: subclasses set arg_constraints and support and define
    log_prob, entropy, mean, variance and sample or rsample."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turns argument validation on or off for distributions built without validate_args."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args(): expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_parameters()
        super().__init__()

    def _validate_parameters(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set `arg_constraints = {{}}` "
                          "or initialize the distribution with `validate_args=False` to turn off validation.",
                          stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # depends on other parameters: cannot be checked on its own
            if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                continue  # derived from the given parameter (logits from probs): checked through that one
            value = getattr(self, param)
            if not _all_true(constraint.check(value)):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                                 f"but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        """A distribution of this family with its parameters expanded (views, no copies) to batch_shape."""
        raise NotImplementedError(f"{type(self).__name__} does not implement expand()")

    def _broadcast_parameters(self, **params):
        """Sets the parameters (numbers or tensors) as tensors broadcast together; returns the batch shape:
        theirs, or () when every one was a number (as torch)."""
        for name, value in zip(params, broadcast_all(*params.values())):
            setattr(self, name, value)
        if all(isinstance(v, numbers.Number) for v in params.values()):
            return Size()
        return getattr(self, next(iter(params))).size()

    def _expanded(self, cls, batch_shape, _instance, fill):
        """expand()'s frame: a new instance of cls (or _instance) given its parameters by fill(new, batch_shape),
        with this one's event shape and validation setting; it is not validated again (as torch)."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        fill(new, batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expand_parameters(self, cls, batch_shape, _instance, names, param_tail=()):
        """expand() of a family whose parameters in `names` have shape batch_shape + param_tail: those present
        are expanded (views; a lazy one not yet derived stays lazy)."""
        def fill(new, shape):
            for name in names:
                if name in self.__dict__:
                    setattr(new, name, self.__dict__[name].expand(shape + Size(param_tail)))
        return self._expanded(cls, batch_shape, _instance, fill)

    @property
    def batch_shape(self):
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one draw (without batching)."""
        return self._event_shape

    # What each family defines: {parameter name: Constraint} the parameters satisfy, the Constraint every sample
    # satisfies, the moments, the densities, and a sampler (rsample where the draw is differentiable).
    arg_constraints = property(_missing("arg_constraints", "define"))
    support = property(_missing("support", "define"))
    mean = property(_missing("mean"))
    mode = property(_missing("mode"))
    variance = property(_missing("variance"))
    rsample = _missing("rsample (a reparameterized sampler: has_rsample is False)")
    log_prob = _missing("log_prob")
    cdf = _missing("cdf")
    icdf = _missing("icdf")
    enumerate_support = _missing("enumerate_support")
    entropy = _missing("entropy")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def perplexity(self):
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        """sample_shape + batch_shape + event_shape."""
        return Size(Size(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        """value (of log_prob, cdf) must be a tensor whose rightmost dims are event_shape, broadcastable with
        batch_shape + event_shape, and inside the support."""
        if not isinstance(value, _C.Tensor):
            raise ValueError(f"The value argument to log_prob must be a Tensor, got {type(value).__name__}")
        event_dim_start = len(value.size()) - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {value.size()} vs "
                             f"{self._event_shape}.")
        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {actual_shape} vs "
                                 f"{expected_shape}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample validation. Please initialize "
                          "the distribution with `validate_args=False` to turn off validation.", stacklevel=3)
            return
        if not _all_true(support.check(value)):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                             f"within the support ({support!r}) of the distribution {self!r}, but found invalid "
                             f"values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        param_names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
                         for p in param_names)
        return self.__class__.__name__ + "(" + args + ")"
