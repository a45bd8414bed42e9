"""sort, argsort, msort and topk (vt::sort) against torch on every device: values, indices and gradients over
dims, directions, dtypes, strided inputs, NaN, ties (stable), 0-d and empty tensors, and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_and_gradient(device, dtype, dim, descending):
    x = randn((4, 5, 6), dtype).requires_grad_()
    check_op(lambda v: tuple(vt.sort(v, dim, descending)), lambda t: tuple(torch.sort(t, dim, descending)), [x], device)
    check_op(lambda v: vt.argsort(v, dim, descending), lambda t: torch.argsort(t, dim, descending), [x.detach()], device)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_dtypes_stable_ties(device, dtype, descending):
    x = randn((3, 40), dtype)  # integers in [-5, 5], bools: many ties
    got = vt.sort(to_vt(x, device), -1, descending, stable=True)
    ref = torch.sort(x, dim=-1, descending=descending, stable=True)
    assert_close(got.values, ref.values)
    assert_close(got.indices, ref.indices)


def test_sort_nan_and_strided_input(device):
    x = torch.tensor([[3.0, math.nan, -1.0, 2.0], [math.nan, 0.0, math.inf, -math.inf]])
    for descending in (False, True):
        ref = torch.sort(x.t(), dim=0, descending=descending, stable=True)
        got = vt.sort(to_vt(x, device).t(), 0, descending, stable=True)  # a transposed view: rows along dim 0
        assert_close(got.values, ref.values)
        assert_close(got.indices, ref.indices)


def test_sort_0d_and_empty(device):
    for shape, dim in (((), 0), ((), -1), ((0, 3), 0), ((2, 0), 1)):
        x = randn(shape)
        ref = torch.sort(x, dim)
        got = vt.sort(to_vt(x, device), dim)
        assert_close(got.values, ref.values)
        assert_close(got.indices, ref.indices)


def test_sort_method_and_msort():
    x = randn((5, 3))
    v = to_vt(x)
    assert_close(v.sort(descending=True).values, x.sort(descending=True).values)
    assert_close(v.argsort(dim=0), x.argsort(dim=0))
    assert_close(vt.msort(v), torch.msort(x))
    assert type(vt.sort(v)).__name__ == "sort"


@pytest.mark.parametrize("k", [0, 1, 3, 6])
@pytest.mark.parametrize("dim", [1, -1, 0])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(device, k, dim, largest):
    x = randn((6, 6, 6)).requires_grad_()
    check_op(lambda v: tuple(vt.topk(v, k, dim, largest)), lambda t: tuple(torch.topk(t, k, dim, largest)), [x], device)


def test_topk_language_model_sampling():
    # nanoGPT's generate: crop the logits to the top k, then sample
    logits = randn((2, 100))
    v, _ = vt.topk(to_vt(logits), 10)
    ref, _ = torch.topk(logits, 10)
    assert_close(v, ref)
    masked = to_vt(logits).masked_fill(to_vt(logits) < v[:, [-1]], -math.inf)
    assert_close(masked, logits.masked_fill(logits < ref[:, [-1]], -math.inf))
    assert_close(to_vt(logits).topk(3, largest=False).indices, logits.topk(3, largest=False).indices)
    assert_close(vt.topk(vt.tensor(2.5), 1).values, torch.topk(torch.tensor(2.5), 1).values)


def test_errors():
    x = vt.randn(3, 4)
    for k in (5, -1):
        with pytest.raises(RuntimeError, match=rf"topk: selected index k out of range: k={k}, but dim -1 has size 4"):
            vt.topk(x, k)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        vt.topk(x, 1, dim=2)
    with pytest.raises(IndexError, match=r"sort: dimension out of range \(expected to be in range of \[-2, 1\], but "
                                         r"got 3\)"):
        vt.sort(x, 3)
    with pytest.raises(IndexError, match="dimension out of range"):
        vt.argsort(vt.tensor(1.0), 1)
