"""set_default_dtype / get_default_dtype (Note [Default dtype]) against torch's: factories, tensors from Python
floats, integer ops that give floats, Python floats in promotion, layers' parameters, and the repr."""
import pytest
import torch

import vibetensor as vt


@pytest.fixture
def float64_default():
    vt.set_default_dtype(vt.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        vt.set_default_dtype(vt.float32)
        torch.set_default_dtype(torch.float32)


CASES = {
    "zeros": (lambda m: m.zeros(2, 3), lambda m: m.zeros(2, 3)),
    "ones": (lambda m: m.ones(2), lambda m: m.ones(2)),
    "empty": (lambda m: m.empty(2), lambda m: m.empty(2)),
    "rand": (lambda m: m.rand(3), lambda m: m.rand(3)),
    "randn": (lambda m: m.randn(3), lambda m: m.randn(3)),
    "full_float": (lambda m: m.full((2,), 1.5), lambda m: m.full((2,), 1.5)),
    "arange_float": (lambda m: m.arange(0, 1, 0.25), lambda m: m.arange(0, 1, 0.25)),
    "tensor_floats": (lambda m: m.tensor([1.0, 2.5]), lambda m: m.tensor([1.0, 2.5])),
    "tensor_empty": (lambda m: m.tensor([]), lambda m: m.tensor([])),
    "scalar_tensor": (lambda m: m.scalar_tensor(2.0), lambda m: m.scalar_tensor(2.0)),
    "int_true_div": (lambda m: m.tensor([1, 2]) / m.tensor([2, 4]), lambda m: m.tensor([1, 2]) / m.tensor([2, 4])),
    "int_times_python_float": (lambda m: m.tensor([1, 2]) * 0.5, lambda m: m.tensor([1, 2]) * 0.5),
    "sqrt_of_ints": (lambda m: m.sqrt(m.tensor([4, 9])), lambda m: m.sqrt(m.tensor([4, 9]))),
    "float32_times_python_float": (lambda m: m.ones(2, dtype=m.float32) * 0.5,
                                   lambda m: m.ones(2, dtype=m.float32) * 0.5),
    "linear_weight": (lambda m: m.nn.Linear(2, 3).weight, lambda m: m.nn.Linear(2, 3).weight),
    "ints_stay_ints": (lambda m: m.arange(3), lambda m: m.arange(3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_take_torchs_dtype_under_a_float64_default(name, float64_default):
    vt_fn, torch_fn = CASES[name]
    assert str(vt_fn(vt).dtype).split(".")[-1] == str(torch_fn(torch).dtype).split(".")[-1], name


def test_factories_on_the_device_follow_the_default(float64_default, device):
    for t in (vt.zeros(2, device=device), vt.rand(2, device=device), vt.randn(2, device=device),
              vt.full((2,), 0.5, device=device), vt.arange(0.0, 1.0, 0.5, device=device)):
        assert t.dtype is vt.float64 and t.device.type == vt.device(device).type


def test_the_default_comes_back_and_shows_in_the_repr(float64_default):
    assert vt.get_default_dtype() is vt.float64
    assert "dtype" not in repr(vt.tensor([1.5]))  # the default dtype is not printed, as torch
    assert "dtype=vibetensor.float32" in repr(vt.tensor([1.5], dtype=vt.float32))


def test_only_floating_dtypes_are_accepted_and_float32_is_the_start():
    assert vt.get_default_dtype() is vt.float32
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        vt.set_default_dtype(vt.int64)
    with pytest.raises(TypeError, match="expected a vibetensor dtype, got str"):
        vt.set_default_dtype("float64")
    assert vt.get_default_dtype() is vt.float32
