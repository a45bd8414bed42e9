"""assert_close (torch.testing.assert_close) over vibetensor tensors, Python scalars and nested sequences and
mappings of them.

Note [assert_close pairs]
As torch's: the inputs are walked together (sequences by position, mappings by key, strings are leaves), and
each pair of leaves is compared by the first comparison that takes it: None, bools, numbers, tensor-likes
(tensors, or numpy arrays turned into tensors, of directly related types: a tensor never equals a number here).
A structural difference or a pair no comparison takes fails before any value is compared; then the first pair
that differs raises, its message followed by the item's position ("The failure occurred for item [1]['w']").
msg replaces the message (a callable receives it and returns the new one)."""
import cmath
import collections.abc
from dataclasses import dataclass

import numpy as np

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor import _functional
from vibetensor.testing import _messages
from vibetensor.testing._tolerances import NUMBER_DTYPES, ToleranceError, tolerances

__all__ = ["assert_close"]


class _Failure(Exception):
    """A failed comparison: the exception type to raise, its message, and the item's position."""

    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if isinstance(msg, str):
            return self.type(msg)
        generated = self.msg
        if self.id:
            generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
        return self.type(msg(generated) if callable(msg) else generated)


class _Unsupported(Exception):
    """This comparison does not take these inputs: try the next."""


@dataclass
class _Options:
    allow_subclasses: bool
    rtol: float
    atol: float
    equal_nan: bool
    check_device: bool
    check_dtype: bool
    check_stride: bool


def _tolerances(*dtypes, options, id):
    try:
        return tolerances(*dtypes, rtol=options.rtol, atol=options.atol)
    except ToleranceError as e:
        raise _Failure(ValueError, str(e), id) from None


# ---- the comparisons: each builds a comparing function from a pair it takes, or raises _Unsupported -------------

def _none_pair(actual, expected, id, options):
    if not (actual is None or expected is None):
        raise _Unsupported

    def compare():
        if not (actual is None and expected is None):
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", id)
    return compare


def _bool_pair(actual, expected, id, options):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)

    def compare():
        if actual is not expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id)
    return compare


def _number_pair(actual, expected, id, options):
    if not all(isinstance(x, (int, float, complex, np.number)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    rtol, atol = _tolerances(*(NUMBER_DTYPES[type(x)] for x in (actual, expected)), options=options, id=id)

    def compare():
        if options.check_dtype and type(actual) is not type(expected):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", id)
        if actual == expected:
            return
        if options.equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
            return
        raise _Failure(AssertionError, _messages.scalar_mismatch_message(actual, expected, rtol, atol), id)
    return compare


def _as_tensor(x):
    if isinstance(x, _C.Tensor):
        return x
    try:
        return _factories.as_tensor(x)
    except Exception:  # (what as_tensor refuses, no comparison takes: the TypeError below names the types)
        raise _Unsupported from None


def _tensor_pair(actual, expected, id, options):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported  # not directly related (a tensor and a number, an array and a tensor)
    if not options.allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    actual, expected = _as_tensor(actual), _as_tensor(expected)
    rtol, atol = _tolerances(actual.dtype, expected.dtype, options=options, id=id)

    def compare():
        _compare_attributes(actual, expected, options, id)
        a, e = _equalize(actual, expected)
        matches = isclose(a, e, rtol, atol, options.equal_nan)
        if bool(matches.all().item()):
            return
        if a.dim() == 0:
            msg = _messages.scalar_mismatch_message(a.item(), e.item(), rtol, atol)
        else:
            msg = _messages.tensor_mismatch_message(a, e, matches, rtol, atol)
        raise _Failure(AssertionError, msg, id)
    return compare


def _compare_attributes(actual, expected, options, id):
    def differ(name, a, e):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", id)

    if actual.shape != expected.shape:
        differ("shape", actual.shape, expected.shape)
    # (every vibetensor tensor is strided: layouts always match)
    if options.check_stride and actual.stride() != expected.stride():
        differ("stride()", actual.stride(), expected.stride())
    if options.check_device and actual.device != expected.device:
        differ("device", actual.device, expected.device)
    if options.check_dtype and actual.dtype != expected.dtype:
        differ("dtype", actual.dtype, expected.dtype)


def _equalize(actual, expected):
    """Both on the CPU when their devices differ, both in the promoted dtype when their dtypes differ."""
    if actual.device != expected.device:
        actual, expected = actual.cpu(), expected.cpu()
    if actual.dtype != expected.dtype:
        common = _C.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    return actual, expected


def isclose(actual, expected, rtol, atol, equal_nan):
    """torch.isclose's verdicts: equal values (equal infinities too) are close; otherwise only finite differences
    within atol + rtol * |expected| are; nan is close to nan only under equal_nan. Integers are compared in the
    default dtype when there is a tolerance."""
    close = actual == expected
    if equal_nan and actual.dtype.is_floating_point:
        close = close | (_functional.isnan(actual) & _functional.isnan(expected))
    if rtol == 0 and atol == 0:
        return close
    if not actual.dtype.is_floating_point:
        actual, expected = actual.to(_dtype.get_default_dtype()), expected.to(_dtype.get_default_dtype())
    allowed = atol + (rtol * expected).abs()
    error = (actual - expected).abs()
    return close | (_functional.isfinite(error) & (error <= allowed))


_PAIRS = (_none_pair, _bool_pair, _number_pair, _tensor_pair)


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _originate(actual, expected, id, options):
    """The comparing functions of every pair of leaves (Note [assert_close pairs])."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           id)
        return [c for i in range(len(actual)) for c in _originate(actual[i], expected[i], (*id, i), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                           f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                           f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}", id)
        try:
            keys = sorted(actual_keys)  # deterministic order where the keys allow it
        except TypeError:
            keys = list(actual_keys)
        return [c for k in keys for c in _originate(actual[k], expected[k], (*id, k), options)]
    for pair in _PAIRS:
        try:
            return [pair(actual, expected, id, options)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                   f"{type(expected)}.", id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False, check_device=True,
                 check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises AssertionError unless actual and expected are close: the same structure, and per pair of leaves
    the same shape, device and dtype (unless check_device / check_dtype is False: then compared on the CPU in the
    promoted dtype) and values with |actual - expected| <= atol + rtol * |expected| (non-finite values only when
    equal; nan only under equal_nan). rtol and atol default to the loosest of the two dtypes' defaults (float32:
    1.3e-6, 1e-5; float64: 1e-7, 1e-7; float16: 1e-3, 1e-5; bfloat16: 1.6e-2, 1e-5; integers and bools: exact);
    give both or neither (ValueError). Inputs no comparison takes raise TypeError. check_layout is accepted for
    torch's signature: vibetensor tensors are all strided."""
    __tracebackhide__ = True
    options = _Options(allow_subclasses, rtol, atol, equal_nan, check_device, check_dtype, check_stride)
    try:
        comparisons = _originate(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error() from None
    for compare in comparisons:
        try:
            compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None
