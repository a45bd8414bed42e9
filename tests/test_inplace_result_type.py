"""In-place methods built from their out-of-place op (Note in vibetensor/_tensor.py's _inplace_of): a result
self's dtype cannot hold is refused as torch refuses it, never truncated into self."""
import pytest
import torch

import vibetensor as vt
from harness import to_vt

FLOAT_RESULT_OF_INTS = [("log1p_", ()), ("expm1_", ()), ("erf_", ()), ("exp_", ()), ("sqrt_", ()),
                        ("atan2_", ("other",)), ("arctan2_", ("other",))]


@pytest.mark.parametrize("name,args", FLOAT_RESULT_OF_INTS, ids=lambda v: v if isinstance(v, str) else "")
def test_float_result_into_integer_self_is_refused(device, name, args):
    t = torch.tensor([[1, 2], [3, 4]])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        getattr(t.clone(), name)(*[t.clone() for _ in args])  # torch's behaviour
    v = to_vt(t, device)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        getattr(v, name)(*[to_vt(t, device) for _ in args])
    assert v.cpu().tolist() == t.tolist()  # self left as it was


def test_results_that_fit_are_written(device):
    for name, args in [("sign_", ()), ("trunc_", ()), ("cumprod_", (0,)), ("nan_to_num_", ())]:
        t = torch.tensor([[1, -2], [3, 4]])
        v = to_vt(t, device)
        assert getattr(v, name)(*args) is v
        assert v.cpu().tolist() == getattr(t, name)(*args).tolist()
    f = to_vt(torch.tensor([0.5, 2.0]), device)
    f.atan2_(to_vt(torch.tensor([1.0, 1.0], dtype=torch.float64), device))  # float64 into float32: allowed
    assert f.dtype == vt.float32
