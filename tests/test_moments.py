"""std_mean and var_mean against torch on every device: dims, keepdim, unbiased and correction (positional and
keyword forms), gradients of both outputs, dtypes, strided inputs, size-1 and empty dims, and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt

FORMS = [((), {}), ((1,), {}), ((0,), dict(keepdim=True)), (((0, 1),), {}), ((1, False), {}), ((False,), {}),
         ((-1,), dict(correction=0)), ((1,), dict(correction=2, keepdim=True)), ((None,), dict(unbiased=False))]


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@pytest.mark.parametrize("args,kw", FORMS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_moments(device, name, args, kw, dtype):
    x = randn((4, 5), dtype).requires_grad_()
    check_op(lambda v: getattr(vt, name)(v, *args, **kw), lambda t: getattr(torch, name)(t, *args, **kw), [x], device)
    check_op(lambda v: getattr(vt, name)(v.t(), *args, **kw), lambda t: getattr(torch, name)(t.t(), *args, **kw), [x],
             device)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_moments_edges_and_errors(device, name):
    for shape, dim in [((1, 3), 0), ((3, 1), 1), ((0, 3), 1)]:
        x = randn(shape)
        got, expected = getattr(vt, name)(to_vt(x, device), dim), getattr(torch, name)(x, dim)
        assert isinstance(got, tuple) and len(got) == 2
        assert_close(got[0], expected[0])
        assert_close(got[1], expected[1])
    with pytest.raises(RuntimeError, match=f"{name} only supports floating point dtypes, got vibetensor.int64"):
        getattr(vt, name)(to_vt(rand((3,), torch.int64), device))
    with pytest.raises(TypeError, match="pass either unbiased or correction, not both"):
        getattr(vt, name)(to_vt(randn((3,)), device), 0, True, correction=1)
    with pytest.raises(TypeError, match=name + r"\(\): argument 'input' must be Tensor, not list"):
        getattr(vt, name)([1.0, 2.0])
