"""nan_to_num, nansum, nanmean and count_nonzero against torch on every device: nan and infinities, the
replacement values, dims and keepdim, gradients (0 for what is replaced or left out), dtypes, strided inputs,
empty and 0-D inputs, and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


def _with_specials(dtype, seed=0):
    x = randn((4, 6), dtype, seed=seed)
    x[0, 1], x[1, 2], x[2, 3], x[3, 0], x[3, 5] = math.nan, math.inf, -math.inf, math.nan, math.nan
    return x


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("kw", [{}, dict(nan=0.5), dict(nan=-1.0, posinf=2.0, neginf=-3.0), dict(posinf=1e3)])
def test_nan_to_num(device, dtype, kw):
    x = _with_specials(dtype).requires_grad_(dtype != torch.float16)
    check_op(lambda v: vt.nan_to_num(v, **kw), lambda t: torch.nan_to_num(t, **kw), [x], device)
    check_op(lambda v: v.t().nan_to_num(**kw), lambda t: t.t().nan_to_num(**kw), [x], device)


def test_nan_to_num_integers_inplace_and_edges(device):
    i = rand((5,), torch.int64)
    assert_close(vt.nan_to_num(to_vt(i, device)), torch.nan_to_num(i))
    x = _with_specials(torch.float32)
    v = to_vt(x, device)
    assert v.nan_to_num_(nan=7.0) is v
    assert_close(v, torch.nan_to_num(x, nan=7.0))
    for shape in [(0,), ()]:
        e = randn(shape)
        assert_close(vt.nan_to_num(to_vt(e, device)), torch.nan_to_num(e))
    with pytest.raises(TypeError, match=r"nan_to_num\(\): argument 'input' must be Tensor, not float"):
        vt.nan_to_num(math.nan)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)])
def test_nansum_nanmean(device, dtype, dim, keepdim):
    x = _with_specials(dtype)
    x = torch.where(x.isinf(), torch.zeros_like(x), x).requires_grad_()  # infinities sum to inf or nan anyway
    for name in ("nansum", "nanmean"):
        if dim is None:
            check_op(getattr(vt, name), getattr(torch, name), [x], device)
        else:
            check_op(lambda v: getattr(vt, name)(v, dim, keepdim), lambda t: getattr(torch, name)(t, dim, keepdim),
                     [x], device)
            check_op(lambda v: getattr(v.t(), name)(dim, keepdim=keepdim),
                     lambda t: getattr(t.t(), name)(dim, keepdim=keepdim), [x], device)


def test_nansum_dtypes_and_edges(device):
    for dtype in (torch.int64, torch.bool):
        i = rand((3, 4), dtype)
        assert_close(vt.nansum(to_vt(i, device)), torch.nansum(i))
        assert_close(vt.nansum(to_vt(i, device), 1), torch.nansum(i, 1))
    x = _with_specials(torch.float32)
    assert_close(vt.nansum(to_vt(x, device), dtype=vt.float64), torch.nansum(x, dtype=torch.float64))
    all_nan = torch.full((2, 3), math.nan)
    assert_close(vt.nansum(to_vt(all_nan, device), 1), torch.nansum(all_nan, 1))
    assert_close(vt.nanmean(to_vt(all_nan, device), 1), torch.nanmean(all_nan, 1))
    e = randn((0, 3))
    assert_close(vt.nansum(to_vt(e, device), 0), torch.nansum(e, 0))
    assert_close(vt.nanmean(to_vt(e, device), 0), torch.nanmean(e, 0))
    with pytest.raises(RuntimeError, match=r"nanmean\(\): expected input to have floating point dtype but got "
                                           "vibetensor.int64"):
        vt.nanmean(to_vt(rand((3,), torch.int64), device))
    with pytest.raises(IndexError, match="(?i)dimension out of range"):
        vt.nansum(to_vt(x, device), 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_count_nonzero(device, dtype, dim):
    x = rand((4, 5), dtype, lo=-1, hi=1)
    if dtype.is_floating_point:
        x = x.round()  # many zeros
        x[0, 0] = math.nan  # nan is nonzero
    assert_close(vt.count_nonzero(to_vt(x, device), dim), torch.count_nonzero(x, dim))
    assert_close(to_vt(x, device).t().count_nonzero(dim), x.t().count_nonzero(dim))


def test_count_nonzero_edges_and_errors(device):
    for shape in [(0,), (), (0, 3)]:
        x = randn(shape)
        assert_close(vt.count_nonzero(to_vt(x, device)), torch.count_nonzero(x))
    x = to_vt(randn((2, 2)), device)
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times in the list of dims"):
        vt.count_nonzero(x, (1, 1))
    with pytest.raises(IndexError, match="(?i)dimension out of range"):
        vt.count_nonzero(x, 2)
