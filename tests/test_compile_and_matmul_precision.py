"""vibetensor.compile (Note [compile]) and set_float32_matmul_precision (Note [float32 matmul precision])."""
import warnings

import pytest

import vibetensor as vt
from vibetensor import _compile


def test_compile_returns_the_model_which_runs_as_before_and_warns_once(monkeypatch):
    monkeypatch.setattr(_compile, "_warned", False)
    m = vt.nn.Linear(3, 2)
    x = vt.randn(4, 3)
    with pytest.warns(UserWarning, match="no graph compiler; the model runs eagerly"):
        c = vt.compile(m, mode="max-autotune")
    assert c is m and vt.equal(c(x), m(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vt.compile(m) is m  # once per process


def test_compile_as_a_decorator_with_and_without_arguments(monkeypatch):
    monkeypatch.setattr(_compile, "_warned", True)

    @vt.compile
    def f(x):
        return x * 2

    @vt.compile(fullgraph=True, dynamic=False)
    def g(x):
        return x + 1

    assert f(vt.ones(2)).tolist() == [2.0, 2.0] and g(vt.ones(2)).tolist() == [2.0, 2.0]
    m = vt.nn.Linear(2, 2)
    assert m.compile(mode="reduce-overhead") is None and m(vt.ones(1, 2)).shape == (1, 2)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"mode": "fastest"}, RuntimeError, "Unrecognized mode='fastest'"),
    ({"mode": "default", "options": {"x": 1}}, RuntimeError, "Either mode or options"),
    ({"backend": 3}, TypeError, "backend must be a name or a callable"),
])
def test_compile_refuses_torchs_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        vt.compile(vt.nn.Linear(2, 2), **kwargs)
    with pytest.raises(RuntimeError, match="expected a callable"):
        vt.compile(3)


def test_float32_matmul_precision_moves_the_tf32_switch_both_ways():
    before = vt.backends.cuda.matmul.allow_tf32
    try:
        assert vt.get_float32_matmul_precision() == ("high" if before else "highest")
        vt.set_float32_matmul_precision("high")
        assert vt.backends.cuda.matmul.allow_tf32 is True and vt.get_float32_matmul_precision() == "high"
        vt.set_float32_matmul_precision("medium")
        assert vt.backends.cuda.matmul.allow_tf32 is True and vt.get_float32_matmul_precision() == "medium"
        vt.set_float32_matmul_precision("highest")
        assert vt.backends.cuda.matmul.allow_tf32 is False and vt.get_float32_matmul_precision() == "highest"
        vt.backends.cuda.matmul.allow_tf32 = True  # as torch: the switch moves the reading
        assert vt.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match=r"invalid precision 'low'; expected one of \['highest', 'high', "):
            vt.set_float32_matmul_precision("low")
    finally:
        vt.backends.cuda.matmul.allow_tf32 = before
