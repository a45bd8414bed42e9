"""unique and unique_consecutive (Note [unique from a sort]) against torch on every device: every combination of
return_inverse and return_counts, nan (each its own value) and signed zeros, dims, dtypes, strided inputs, empty
and 0-D inputs, and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, rand, randn, to_vt

FLAGS = [{}, dict(return_inverse=True), dict(return_counts=True), dict(return_inverse=True, return_counts=True)]


def _same(got, expected):
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_close(g, e)


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32, torch.bool])
def test_unique(device, flags, dtype):
    x = rand((5, 7), dtype, lo=-3, hi=3)
    if dtype.is_floating_point:
        x = x.round()  # repeats
    _same(vt.unique(to_vt(x, device), **flags), torch.unique(x, **flags))
    _same(to_vt(x, device).t().unique(**flags), x.t().unique(**flags))  # a strided view
    _same(vt.unique(to_vt(x, device), sorted=False, **flags), torch.unique(x, sorted=True, **flags))


@pytest.mark.parametrize("flags", FLAGS)
def test_unique_special_values_and_shapes(device, flags):
    for x in (torch.tensor([math.nan, 1.0, math.nan, -math.inf, math.inf, 1.0]), torch.tensor([0.0, -0.0, 0.0]),
              torch.tensor([]), torch.tensor(3.0), torch.ones(1, 1), randn((0, 3))):
        _same(vt.unique(to_vt(x, device), **flags), torch.unique(x, **flags))


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_unique_dim(device, flags, dim):
    x = rand((4, 6, 3), torch.int64, lo=0, hi=1)
    x = torch.cat([x, x[:2]], 0)  # repeated slices along dims 0 and 1 (dim 2 has them by chance)
    x = torch.cat([x, x[:, :2]], 1)
    _same(vt.unique(to_vt(x, device), dim=dim, **flags), torch.unique(x, dim=dim, **flags))
    f = x.double().transpose(0, 2)
    _same(vt.unique(to_vt(x.double(), device).transpose(0, 2), dim=dim, **flags), torch.unique(f, dim=dim, **flags))


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive(device, flags, dim):
    x = torch.tensor([[1, 1, 2, 2, 3, 1, 1, 2], [1, 1, 2, 2, 3, 1, 1, 2], [0, 0, 2, 2, 3, 1, 1, 2]])
    _same(vt.unique_consecutive(to_vt(x, device), dim=dim, **flags), torch.unique_consecutive(x, dim=dim, **flags))
    _same(to_vt(x.t().contiguous(), device).t().unique_consecutive(dim=dim, **flags),
          x.unique_consecutive(dim=dim, **flags))
    for e in (torch.tensor([]), torch.tensor(2.0), torch.tensor([math.nan, math.nan, 1.0])):
        if dim is None:
            _same(vt.unique_consecutive(to_vt(e, device), **flags), torch.unique_consecutive(e, **flags))


def test_unique_errors(device):
    with pytest.raises(RuntimeError, match="there are 0 sized dimensions, and they aren't selected"):
        vt.unique(to_vt(randn((3, 0)), device), dim=0)
    with pytest.raises(RuntimeError, match="there are 0 sized dimensions, and they aren't selected"):
        vt.unique_consecutive(to_vt(randn((0, 3)), device), dim=1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.unique(to_vt(randn((2, 2)), device), dim=2)
    with pytest.raises(IndexError, match=r"unique\(\): dim=0 given for a 0-D tensor"):
        vt.unique(to_vt(torch.tensor(1.0), device), dim=0)
    with pytest.raises(TypeError, match=r"unique\(\): argument 'input' must be Tensor, not list"):
        vt.unique([1, 2])
