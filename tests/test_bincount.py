"""bincount against torch on every device: counts, minlength, weights of each dtype (float32 stays, the others
become float64), int32 input, the gradient of the weights, empty input, and the error paths (negative values,
floats, wrong shapes)."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, rand, randn, to_vt


@pytest.mark.parametrize("minlength", [0, 3, 20])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_bincount(device, minlength, dtype):
    x = rand((30,), dtype, lo=0, hi=9)
    assert_close(vt.bincount(to_vt(x, device), minlength=minlength), torch.bincount(x, minlength=minlength))
    assert_close(to_vt(x, device).bincount(minlength=minlength), x.bincount(minlength=minlength))


@pytest.mark.parametrize("wdtype", [torch.float32, torch.float64, torch.int64, torch.float16])
def test_bincount_weights(device, wdtype):
    x = rand((12,), torch.int64, lo=0, hi=5)
    w = rand((12,), wdtype, lo=-2, hi=2, seed=1)
    assert_close(vt.bincount(to_vt(x, device), to_vt(w, device)), torch.bincount(x, w), rtol=1e-3, atol=1e-3)
    assert_close(vt.bincount(to_vt(x, device), to_vt(w, device), 9), torch.bincount(x, w, 9), rtol=1e-3, atol=1e-3)


def test_bincount_weight_gradient_and_strided(device):
    # torch's bincount has no derivative; the gradient of out[v] with respect to a weight of value v is 1
    x = torch.tensor([1, 3, 3, 0, 7])
    w = to_vt(randn((5,)), device, requires_grad=True)
    g = randn((8,), seed=1)
    out = vt.bincount(to_vt(x, device), w)
    (out * to_vt(g, device)).sum().backward()
    assert_close(w.grad, g[x])
    m = rand((3, 4), torch.int64, lo=0, hi=6)
    assert_close(vt.bincount(to_vt(m, device).t()[1]), torch.bincount(m.t()[1]))


def test_bincount_empty_and_errors(device):
    e = torch.tensor([], dtype=torch.int64)
    assert_close(vt.bincount(to_vt(e, device)), torch.bincount(e))
    assert_close(vt.bincount(to_vt(e, device), minlength=3), torch.bincount(e, minlength=3))
    x = to_vt(torch.tensor([1, 2]), device)
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs, got the value -1"):
        vt.bincount(to_vt(torch.tensor([-1, 2]), device))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs, got a 1-D "
                                           "vibetensor.float32 tensor"):
        vt.bincount(to_vt(torch.tensor([1.0, 2.0]), device))
    with pytest.raises(RuntimeError, match="got a 2-D vibetensor.int64 tensor"):
        vt.bincount(to_vt(torch.ones(2, 2, dtype=torch.int64), device))
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        vt.bincount(x, to_vt(torch.ones(3), device))
    with pytest.raises(RuntimeError, match="minlength should be >= 0, got -1"):
        vt.bincount(x, minlength=-1)
    with pytest.raises(TypeError, match=r"bincount\(\): argument 'minlength' must be int, not float"):
        vt.bincount(x, minlength=2.0)
