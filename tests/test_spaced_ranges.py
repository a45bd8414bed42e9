"""linspace and logspace against torch on every device: values (both ends exact, integer dtypes rounded toward
zero), counts 0 and 1, reversed ranges, tensor ends, the dtype/device/requires_grad keywords and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, to_torch, vt_dtype

CASES = [(0, 10, 5), (0, 10, 4), (10, 0, 4), (3, 10, 1), (3, 10, 0), (-1.5, 2.25, 7), (0.1, 0.7, 100),
         (0, 1, 1000), (-3, 3, 2)]


@pytest.mark.parametrize("start,end,steps", CASES)
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.float64, torch.int64])
def test_linspace(device, start, end, steps, dtype):
    kw = {} if dtype is None else {"dtype": vt_dtype(dtype)}
    got = vt.linspace(start, end, steps, device=device, **kw)
    expected = torch.linspace(start, end, steps, **({} if dtype is None else {"dtype": dtype}))
    assert str(got.device).startswith(device)
    assert_close(got, expected)
    if steps >= 2 and dtype != torch.int64:
        assert to_torch(got)[0].item() == expected[0].item() and to_torch(got)[-1].item() == expected[-1].item()


@pytest.mark.parametrize("start,end,steps", CASES[:8])
@pytest.mark.parametrize("dtype", [None, torch.float64, torch.int64])
@pytest.mark.parametrize("base", [10.0, 2, 0.5])
def test_logspace(device, start, end, steps, dtype, base):
    kw = {} if dtype is None else {"dtype": vt_dtype(dtype)}
    got = vt.logspace(start, end, steps, base, device=device, **kw)
    expected = torch.logspace(start, end, steps, base, **({} if dtype is None else {"dtype": dtype}))
    assert_close(got, expected, rtol=4e-6 if dtype != torch.float64 else 1e-13)


def test_tensor_ends_and_requires_grad(device):
    got = vt.linspace(vt.tensor(3.0), vt.tensor(10.0), 3, device=device, requires_grad=True)
    assert got.requires_grad and got.is_leaf
    assert_close(got.detach(), torch.linspace(torch.tensor(3.0), torch.tensor(10.0), 3))
    assert_close(vt.logspace(vt.tensor(0), 2, 3, base=2, device=device), torch.logspace(0, 2, 3, base=2))
    (got * 2).sum().backward()
    assert_close(got.grad, torch.full((3,), 2.0))


def test_errors():
    with pytest.raises(RuntimeError, match=r"linspace\(\): number of steps must be non-negative, got -1"):
        vt.linspace(0, 1, -1)
    with pytest.raises(TypeError, match=r"logspace\(\): argument 'steps' must be int, not float"):
        vt.logspace(0, 1, 3.0)
    with pytest.raises(RuntimeError, match="linspace only supports 0-dimensional start and end tensors, but got "
                                           r"start with 1 dimension\(s\)"):
        vt.linspace(vt.tensor([0.0]), 1, 3)
    with pytest.raises(TypeError, match=r"linspace\(\): dtype bool is not supported"):
        vt.linspace(0, 1, 3, dtype=vt.bool)
    with pytest.raises(TypeError, match=r"linspace\(\): argument 'end' must be a number or a 0-dimensional tensor"):
        vt.linspace(0, "1", 3)
    with pytest.raises(TypeError, match="dtype must be a vibetensor dtype"):
        vt.linspace(0, 1, 3, dtype="float32")
