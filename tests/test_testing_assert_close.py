"""vibetensor.testing.assert_close against torch.testing.assert_close on the same values: the verdict (pass, or
the exception type) for tensors of every dtype, default and given tolerances, nan / inf, Python scalars, None,
bools, numpy arrays and nested sequences / mappings; and the failure messages, which name the same number of
mismatched elements, greatest differences and indices as torch's (dtype and shape names aside)."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import to_vt


def _on(device):
    """A converter of a case's leaves: torch tensors become vibetensor tensors on device, the rest stays."""
    def convert(x):
        if isinstance(x, torch.Tensor):
            return to_vt(x, device)
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v) for v in x)
        if isinstance(x, dict):
            return {k: convert(v) for k, v in x.items()}
        return x
    return convert


def _outcome(fn):
    """(exception type or None, message)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the type is the verdict)
        return type(e), str(e)
    return None, ""


def _torch_words(msg):
    return msg.replace("vibetensor.", "torch.").replace("<class 'torch._C.Tensor'>", "<class 'torch.Tensor'>")


T = torch.tensor
ONES = torch.ones(4)


def _near(t, rel):
    return t * (1 + rel)


CASES = {
    "equal_float32": (ONES, ONES.clone(), {}),
    "within_float32_tolerance": (_near(ONES, 1e-7), ONES, {}),
    "outside_float32_tolerance": (ONES + T([0.0, 2e-5, 0.0, -3e-5]), ONES, {}),
    "within_float64_tolerance": (ONES.double() + 1e-8, ONES.double(), {}),
    "outside_float64_tolerance": (ONES.double() + T([0.0, 0.0, 1e-6, 0.0], dtype=torch.float64), ONES.double(), {}),
    "float16_tolerance": (ONES.half() + 5e-4, ONES.half(), {}),
    "float16_outside": (ONES.half() + 4e-3, ONES.half(), {}),
    "bfloat16_tolerance": (ONES.bfloat16() * 1.0078125, ONES.bfloat16(), {}),
    "bfloat16_outside": (ONES.bfloat16() * 1.03125, ONES.bfloat16(), {}),
    "int64_equal": (T([1, 2, 3]), T([1, 2, 3]), {}),
    "int64_differ": (T([1, 2, 3, 9]), T([1, 5, 3, 4]), {}),
    "int32_vs_int64": (T([1, 2], dtype=torch.int32), T([1, 2]), {}),
    "int32_vs_int64_unchecked": (T([1, 2], dtype=torch.int32), T([1, 2]), {"check_dtype": False}),
    "int_with_tolerance": (T([100, 200]), T([101, 200]), {"rtol": 0.02, "atol": 0.0}),
    "bool_equal": (T([True, False]), T([True, False]), {}),
    "bool_differ": (T([True, False, True]), T([True, True, True]), {}),
    "nan_vs_nan": (T([1.0, math.nan]), T([1.0, math.nan]), {}),
    "nan_vs_nan_equal_nan": (T([1.0, math.nan]), T([1.0, math.nan]), {"equal_nan": True}),
    "nan_vs_number": (T([1.0, math.nan]), T([1.0, 2.0]), {"equal_nan": True}),
    "inf_vs_inf": (T([math.inf, -math.inf]), T([math.inf, -math.inf]), {}),
    "inf_vs_minus_inf": (T([math.inf]), T([-math.inf]), {}),
    "finite_vs_inf_loose": (T([5.0, 1.0]), T([math.inf, 1.0]), {"rtol": 1.0, "atol": 1.0}),
    "inf_vs_finite_loose": (T([math.inf, 1.0]), T([5.0, 1.0]), {"rtol": 1.0, "atol": 1.0}),
    "given_tolerances_pass": (T([1.0, 2.0]), T([1.05, 2.0]), {"rtol": 0.0, "atol": 0.1}),
    "given_tolerances_fail": (T([1.0, 2.0]), T([1.05, 2.0]), {"rtol": 0.01, "atol": 0.0}),
    "zero_tolerances": (T([1.0, 2.0, 3.0]), T([1.0, 2.0 + 1e-6, 3.0]), {"rtol": 0.0, "atol": 0.0}),
    "only_rtol": (ONES, ONES, {"rtol": 1e-3}),
    "only_atol": (ONES, ONES, {"atol": 1e-3}),
    "shape_mismatch": (torch.ones(2, 3), torch.ones(3, 2), {}),
    "dtype_mismatch": (ONES, ONES.double(), {}),
    "dtype_mismatch_unchecked": (ONES, ONES.double() + 1e-9, {"check_dtype": False}),
    "dtype_mismatch_unchecked_fails": (ONES, ONES.double() + 1e-4, {"check_dtype": False}),
    "scalar_tensors_differ": (T(1.0), T(1.5), {}),
    "empty_tensors": (torch.zeros(0, 3), torch.zeros(0, 3), {}),
    "matrix_mismatch_indices": (torch.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4) * T([1, 1, 1.5, 1]),
                                {}),
    "negative_expected_relative": (T([[1.0, -2.0], [3.0, 0.0]]), T([[1.0, -1.0], [3.0, 1e-3]]), {}),
    "float_numbers_close": (1.0, 1.0 + 1e-8, {}),
    "float_numbers_far": (1.0, 1.1, {}),
    "int_numbers": (3, 3, {}),
    "int_numbers_differ": (3, 4, {}),
    "int_vs_float": (1, 1.0, {}),
    "int_vs_float_unchecked": (1, 1.0, {"check_dtype": False}),
    "complex_numbers": (1 + 2j, 1 + 2j, {}),
    "nan_numbers_equal_nan": (math.nan, math.nan, {"equal_nan": True}),
    "nan_numbers": (math.nan, math.nan, {}),
    "expected_zero_number": (1e-3, 0.0, {}),
    "tensor_vs_number": (T(1.0), 1.0, {}),
    "number_vs_tensor": (1.0, T(1.0), {}),
    "none_none": (None, None, {}),
    "none_vs_tensor": (None, ONES, {}),
    "bools": (True, True, {}),
    "bools_differ": (True, False, {}),
    "strings": ("a", "a", {}),
    "numpy_arrays": (np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    "numpy_arrays_differ": (np.array([1.0, 2.0]), np.array([1.0, 2.5]), {}),
    "numpy_vs_tensor": (np.array([1.0, 2.0]), T([1.0, 2.0], dtype=torch.float64), {}),
    "list_of_tensors": ([ONES, (T([1, 2]), 3.0)], [ONES, (T([1, 2]), 3.0)], {}),
    "list_item_differs": ([ONES, (T([1, 2]), 3.0)], [ONES, (T([1, 3]), 3.0)], {}),
    "list_lengths_differ": ([ONES, ONES], [ONES], {}),
    "list_vs_tuple": ([1.0, 2.0], (1.0, 2.0), {}),
    "dicts": ({"w": ONES, "b": [1, 2]}, {"b": [1, 2], "w": ONES}, {}),
    "dict_value_differs": ({"w": ONES, "b": [1, 2]}, {"w": ONES, "b": [1, 5]}, {}),
    "dict_keys_differ": ({"w": ONES, "b": 1}, {"w": ONES, "c": 1}, {}),
    "msg_string": (ONES, ONES * 2, {"msg": "weights diverged"}),
    "msg_callable": (ONES, ONES * 2, {"msg": lambda generated: "step 3: " + generated}),
    "msg_callable_nested": ([ONES], [ONES * 2], {"msg": lambda generated: generated.upper()}),
}


@pytest.mark.parametrize("name", CASES)
def test_verdict_and_message_match_torch(name, device):
    actual, expected, kw = CASES[name]
    want_type, want_msg = _outcome(lambda: torch.testing.assert_close(actual, expected, **kw))
    convert = _on(device)
    got_type, got_msg = _outcome(lambda: vt.testing.assert_close(convert(actual), convert(expected), **kw))
    assert got_type is want_type, (got_type, got_msg, want_type, want_msg)
    if want_type is not None:
        assert _torch_words(got_msg) == want_msg


def test_default_tolerances_are_torchs():
    """Just inside and just outside atol + rtol * |expected| of each dtype's defaults, as torch decides."""
    for dtype, (rtol, atol) in {torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}.items():
        expected = torch.tensor([4.0], dtype=dtype)
        for factor in (0.9, 1.1):
            actual = expected + factor * (atol + rtol * 4.0)
            want, _ = _outcome(lambda: torch.testing.assert_close(actual, expected))
            got, _ = _outcome(lambda: vt.testing.assert_close(to_vt(actual), to_vt(expected)))
            assert got is want and (want is None) == (factor < 1)


def test_check_stride_compares_strides_only_when_asked():
    x = vt.arange(6.0).reshape(2, 3)
    y = x.t().contiguous().t()  # the same values with column-major strides
    assert y.stride() != x.stride()
    vt.testing.assert_close(y, x)
    with pytest.raises(AssertionError, match=r"The values for attribute 'stride\(\)' do not match"):
        vt.testing.assert_close(y, x, check_stride=True)


def test_parameters_are_related_to_tensors():
    p = vt.nn.Parameter(vt.ones(3))
    vt.testing.assert_close(p, vt.ones(3))
    with pytest.raises(TypeError, match="No comparison pair"):
        vt.testing.assert_close(p, vt.ones(3), allow_subclasses=False)
