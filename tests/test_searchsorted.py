"""searchsorted and bucketize (Note [Binary search from ops]) against torch on every device: both sides, every
sequence length up to past a power of two, batched sequences, sorter, nan, mixed dtypes, scalars, int32 output,
strided inputs, empty inputs, and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, rand, randn, to_vt


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 7, 8, 9, 16, 33])
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_lengths(device, size, right):
    seq = torch.sort(rand((size,), torch.int64, lo=0, hi=9))[0]  # repeats: the sides differ
    values = rand((5, 11), torch.int64, lo=-1, hi=10, seed=1)
    assert_close(vt.searchsorted(to_vt(seq, device), to_vt(values, device), right=right),
                 torch.searchsorted(seq, values, right=right))


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_searchsorted_batched_and_strided(device, side, dtype):
    seq = torch.sort(rand((3, 4, 6), dtype, lo=-3, hi=3), -1)[0]
    values = rand((3, 4, 5), dtype, lo=-4, hi=4, seed=1)
    assert_close(vt.searchsorted(to_vt(seq, device), to_vt(values, device), side=side),
                 torch.searchsorted(seq, values, side=side))
    vals_t = rand((5, 4), dtype, lo=-4, hi=4, seed=2)  # a transposed view of values
    assert_close(vt.searchsorted(to_vt(seq[0], device), to_vt(vals_t, device).t(), side=side),
                 torch.searchsorted(seq[0], vals_t.t(), side=side))


def test_searchsorted_sorter_nan_dtypes_and_scalars(device):
    seq, sorter = torch.tensor([5, 1, 3, 3, 9]), torch.tensor([1, 2, 3, 0, 4])
    values = torch.tensor([0, 3, 4, 10])
    for right in (False, True):
        assert_close(vt.searchsorted(to_vt(seq, device), to_vt(values, device), right=right, sorter=to_vt(sorter, device)),
                     torch.searchsorted(seq, values, right=right, sorter=sorter))
    n, nv = torch.tensor([1.0, 2.0, math.nan]), torch.tensor([math.nan, 2.0, 5.0, -1.0])
    for right in (False, True):
        assert_close(vt.searchsorted(to_vt(n, device), to_vt(nv, device), right=right),
                     torch.searchsorted(n, nv, right=right))
    s, f = torch.tensor([1, 3, 5, 7]), torch.tensor([2.5, 3.0, 7.5], dtype=torch.float64)
    assert_close(vt.searchsorted(to_vt(s, device), to_vt(f, device)), torch.searchsorted(s, f))  # mixed dtypes
    assert_close(vt.searchsorted(to_vt(s, device), 4), torch.searchsorted(s, 4))
    assert_close(vt.searchsorted(to_vt(s, device), 3.0, right=True), torch.searchsorted(s, 3.0, right=True))
    assert_close(vt.searchsorted(to_vt(s, device), to_vt(f, device), out_int32=True),
                 torch.searchsorted(s, f, out_int32=True))
    e = torch.tensor([], dtype=torch.int64)
    assert_close(vt.searchsorted(to_vt(s, device), to_vt(e, device)), torch.searchsorted(s, e))


def test_searchsorted_errors(device):
    s = to_vt(torch.tensor([1, 3, 5]), device)
    v = to_vt(torch.tensor([2, 4]), device)
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got middle"):
        vt.searchsorted(s, v, side="middle")
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        vt.searchsorted(s, v, side="left", right=True)
    with pytest.raises(RuntimeError, match="boundaries tensor should have positive dimension"):
        vt.searchsorted(to_vt(torch.tensor(1), device), v)
    with pytest.raises(RuntimeError, match="the first N-1 dimensions of boundaries tensor and input value tensor "
                                           "must match"):
        vt.searchsorted(to_vt(torch.ones(2, 3), device), to_vt(torch.ones(3, 1), device))
    with pytest.raises(RuntimeError, match="input value can be a scalar only when boundaries tensor dimension is 1"):
        vt.searchsorted(to_vt(torch.ones(2, 3), device), 1.0)
    with pytest.raises(RuntimeError, match="sorter must be a tensor of long dtype"):
        vt.searchsorted(s, v, sorter=to_vt(torch.tensor([0, 1, 2], dtype=torch.int32), device))
    with pytest.raises(RuntimeError, match="boundary and sorter must have the same size"):
        vt.searchsorted(s, v, sorter=to_vt(torch.tensor([0, 1]), device))
    with pytest.raises(TypeError, match=r"searchsorted\(\): input must be a Tensor or a number, not str"):
        vt.searchsorted(s, "2")


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_bucketize(device, right, dtype):
    boundaries = torch.tensor([1, 3, 5, 7, 9], dtype=dtype)
    x = rand((4, 6), dtype, lo=0, hi=10)
    assert_close(vt.bucketize(to_vt(x, device), to_vt(boundaries, device), right=right),
                 torch.bucketize(x, boundaries, right=right))
    assert_close(vt.bucketize(to_vt(x, device).t(), to_vt(boundaries, device), right=right, out_int32=True),
                 torch.bucketize(x.t(), boundaries, right=right, out_int32=True))
    assert_close(vt.bucketize(4, to_vt(boundaries, device), right=right), torch.bucketize(4, boundaries, right=right))
    with pytest.raises(RuntimeError, match=r"boundaries tensor must be 1 dimension, but got dim\(2\)"):
        vt.bucketize(to_vt(x, device), to_vt(randn((2, 2)), device))
