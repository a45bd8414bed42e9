"""Every Python spelling of an op takes one route (Note [One route from Python] in
csrc/python/op_route.h): an operator, a Tensor method and a vt.* function reach the same typed
handle, counted alike by the probes, and the generated callers read arguments as the schema says."""
import pytest

import vibetensor as vt

C = vt._C

SPELLINGS = {
    "operator": lambda a, b: a + b,
    "method": lambda a, b: a.add(b),
    "function": lambda a, b: vt.add(a, b),
    "_ops": lambda a, b: C._ops.add(a, b),
}


def counters_of(spell, spec):
    a, b = vt.ones(2), vt.full((2,), 2.0)
    C._policy_apply("probes.counters=on," + spec)
    C._reset_counters()
    for _ in range(5):
        assert spell(a, b).tolist() == [3.0, 3.0]
    got = dict(C._counters())
    return {k: got[k] for k in ("ops_dispatched", "name_lookups", "boxed_calls", "stack_copies")}


@pytest.mark.parametrize("spec, expected", [
    ("dispatch.lookup=handle,dispatch.stack_copy=off", (5, 0, 0, 0)),
    ("dispatch.lookup=locked_map,dispatch.stack_copy=off", (5, 5, 0, 0)),
    ("dispatch.lookup=locked_map,dispatch.stack_copy=on", (5, 5, 5, 5)),
])
def test_every_spelling_is_counted_as_one_call_of_the_same_route(spec, expected):
    for name, spell in SPELLINGS.items():
        got = counters_of(spell, spec)
        assert tuple(got.values()) == expected, (name, got)


def test_functions_and_methods_are_the_generated_callers():
    assert vt.add is C._ops.add and vt.Tensor.add is C._op_methods["add"]
    assert vt.add.__doc__ == "vt::add(Tensor self, Tensor other, Scalar alpha=1) -> Tensor"


def test_arguments_bind_by_position_keyword_and_default():
    a, b = vt.ones(2), vt.full((2,), 2.0)
    assert vt.add(input=a, other=b, alpha=3).tolist() == [7.0, 7.0]  # `input` names `self`, as in torch
    assert a.add(b, alpha=0.5).tolist() == [2.0, 2.0]
    assert vt.add(a, 2).tolist() == [3.0, 3.0]  # a number for a Tensor argument
    assert vt.Tensor.add(a, b).tolist() == [3.0, 3.0]
    assert vt.nn.Parameter(a).add(b).tolist() == [3.0, 3.0]  # methods bind on subclasses
    assert vt.flatten(vt.ones(2, 3, 4), end_dim=1).shape == (6, 4)


@pytest.mark.parametrize("call, error, match", [
    (lambda a: vt.add(a), TypeError, r"add\(\) missing required argument 'other' \(Tensor\)"),
    (lambda a: a.add(a, 1, 2), TypeError, r"add\(\) takes 3 positional arguments but 4 were given"),
    (lambda a: vt.add(a, a, alpha2=1), TypeError, r"add\(\) got an unexpected keyword argument 'alpha2'"),
    (lambda a: vt.add(a, a, other=a), TypeError, r"add\(\) got multiple values for argument 'other'"),
    (lambda a: vt.add(a, "x"), TypeError, r"add\(\): argument 'other' must be Tensor, not str"),
    (lambda a: vt.add(a, a, alpha=vt.ones(2)), ValueError, r"argument 'alpha' must be a number or a one-element"),
    (lambda a: vt.transpose(a, 2**64, 0), RuntimeError, r"argument 'dim0' is 18446744073709551616, which does not fit"),
])
def test_argument_errors_name_the_op_and_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(vt.ones(2))
