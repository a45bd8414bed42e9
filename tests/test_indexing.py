"""__getitem__ / __setitem__ against torch: basic indexing (views), advanced indexing with integer
tensors, lists and bool masks, combinations, assignment, gradients and errors.

Advanced indexing runs on index_select / masked_select."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close


def _base(rng, shape=(4, 5, 6)):
    a = rng.standard_normal(shape).astype(np.float32)
    return a, vt.tensor(a), torch.tensor(a)


BASIC = [
    0, -1, 3, (1, 2), (-1, -2, -3), slice(None), slice(1, 3), slice(None, None, 2), slice(-3, None),
    slice(1, 100), slice(5, 1), slice(-100, 2), (slice(None), 2), (Ellipsis, 1), (1, Ellipsis), (Ellipsis,),
    (None,), (None, 1), (slice(None), None, slice(1, 4, 2)), (0, None, Ellipsis, None), (Ellipsis, None),
    (1, slice(None), -1), (slice(None, None, 3), slice(1, None, 2), 0), True, (Ellipsis, slice(0, 0)), (),
]


@pytest.mark.parametrize("index", BASIC, ids=[repr(i) for i in BASIC])
def test_basic_indexing_is_a_view(rng, index):
    a, x, tx = _base(rng)
    out, ref = x[index], tx[index]
    assert_close(out, ref)
    assert out.stride() == ref.stride()
    assert out._storage_id() == x._storage_id()


def test_basic_indexing_writes_through(rng):
    a, x, tx = _base(rng)
    v = x[1, :, ::2]
    v.fill_(0)
    tx[1, :, ::2] = 0
    assert_close(x, tx)
    assert x[0, 0, 0].item() == a[0, 0, 0]


ADVANCED = [
    [0, 2], "nested_list", [-1, 0], (slice(None), [1, 1, 4]), (Ellipsis, [5, 0]), ([0, 1], [2, 3]),
    ([0, 1], slice(None), [2, 3]), ([[0], [3]], [1, 2]), (slice(None), [0, 2], [1, 5]), (1, [0, 4]),
    ([0, 1], 2), (0, slice(None), [0, 1]), (slice(None), 0, slice(None), ) , (None, [1, 2]), ([1, 2], None),
    (slice(1, 3), [[0, 1]], slice(None, None, 2)), ([], ), ([3, 0], [True, False, True, False, False]),
    "tensor_idx", "tensor_idx_2d", "int32_idx",
]


def _index(spec, device_make):
    if spec == "nested_list":
        # A nested list is one 2-d index tensor (numpy's rule; torch 2.13 still reads it as a tuple,
        # deprecated), so the reference gets the tensor.
        return [[0, 1], [3, 2]] if device_make is vt else torch.tensor([[0, 1], [3, 2]])
    if spec == "tensor_idx":
        return device_make.tensor([2, 0, 2])
    if spec == "tensor_idx_2d":
        return (slice(None), device_make.tensor([[1, 2], [3, 4]]))
    if spec == "int32_idx":
        return device_make.tensor([1, 3], dtype=device_make.int32)
    return spec


@pytest.mark.parametrize("spec", ADVANCED, ids=[repr(s) for s in ADVANCED])
def test_advanced_indexing(rng, spec):
    a, x, tx = _base(rng)
    out, ref = x[_index(spec, vt)], tx[_index(spec, torch)]
    assert_close(out, ref)


MASKS = [
    lambda a: a > 0, lambda a: a[:, 0, 0] > 0, lambda a: (a > 0)[:, :, 0], lambda a: a.sum(axis=(1, 2)) > 0,
    lambda a: np.zeros(a.shape, bool),
]


@pytest.mark.parametrize("i", range(len(MASKS)))
def test_bool_mask_indexing(rng, i):
    a, x, tx = _base(rng)
    m = MASKS[i](a)
    assert_close(x[vt.tensor(m)], tx[torch.tensor(m)])


def test_bool_mask_on_inner_dims(rng):
    a, x, tx = _base(rng)
    assert_close(x[..., vt.tensor(a[0, 0] > 0)], tx[..., torch.tensor(a[0, 0] > 0)])
    assert_close(x[1:, vt.tensor(a[0] > 0)], tx[1:, torch.tensor(a[0] > 0)])
    assert_close(x[vt.tensor(a[:, 0, 0] > 0), 2], tx[torch.tensor(a[:, 0, 0] > 0), 2])


def test_bool_list_index(rng):
    a, x, tx = _base(rng)
    sel = [True, False, True, True]
    assert_close(x[sel], tx[sel])


SET_CASES = [
    (0, 1.5), ((1, 2), -3.0), (slice(1, 3), 0.0), ((slice(None), 0), "row"), ((Ellipsis, 2), "col"),
    ((slice(None, None, 2), 1, slice(None, None, 3)), 7.0), ([0, 2], 9.0), (([0, 1], [2, 3]), "pair"),
    ((slice(None), [1, 4]), "adv"), ([1, 1], "dup"), ("mask", 0.0), ("mask", "mask_vals"), ("mask2d", -1.0),
    ((1, [0, 2]), "adv_row"), (None, 2.0), ((0, None), "row_unsq"),
]


def _set_value(kind, shape, make, rng_vals):
    if not isinstance(kind, str):
        return kind
    return make.tensor(rng_vals[: int(np.prod(shape))].reshape(shape))


@pytest.mark.parametrize("case", range(len(SET_CASES)))
def test_setitem_matches_torch(rng, case):
    index, value = SET_CASES[case]
    a, x, tx = _base(rng)
    vals = rng.standard_normal(200).astype(np.float32)
    if index == "mask":
        vi, ti = vt.tensor(a > 0), torch.tensor(a > 0)
    elif index == "mask2d":
        vi, ti = (slice(None), vt.tensor(a[0] > 0)), (slice(None), torch.tensor(a[0] > 0))
    else:
        vi = ti = index
    shape = tuple(tx[ti].shape)
    if value == "dup":
        # Repeated positions: the last value wins (torch's CPU behaviour).
        v = vt.tensor(vals[:2 * 5 * 6].reshape(2, 5, 6))
        x[vi] = v
        expected = a.copy()
        expected[1] = vals[5 * 6:2 * 5 * 6].reshape(5, 6)
        assert_close(x, expected)
        return
    if value == "row" or value == "col" or value == "pair" or value == "adv" or value == "mask_vals" \
            or value == "adv_row":
        tval = torch.tensor(vals[: int(np.prod(shape))].reshape(shape))
        vval = vt.tensor(tval.numpy())
    elif value == "row_unsq":
        tval = torch.tensor(vals[:6])
        vval = vt.tensor(vals[:6])
    else:
        tval = vval = value
    storage = x._storage_id()
    tx[ti] = tval
    x[vi] = vval
    assert_close(x, tx)
    assert x._storage_id() == storage


def test_setitem_broadcasts_values(rng):
    a, x, tx = _base(rng)
    row = rng.standard_normal(6).astype(np.float32)
    x[:, 1] = vt.tensor(row)
    tx[:, 1] = torch.tensor(row)
    x[2] = vt.tensor(row).view(1, 1, 6)  # leading size-1 dims are dropped, as torch
    tx[2] = torch.tensor(row).view(1, 1, 6)
    x[0, 0] = vt.tensor(5.0)
    tx[0, 0] = torch.tensor(5.0)
    x[1, 1] = [1, 2, 3, 4, 5, 6]
    tx[1, 1] = torch.tensor([1, 2, 3, 4, 5, 6])
    assert_close(x, tx)
    i = vt.zeros(3, dtype=vt.int64)
    i[1] = 2.7  # values are cast to the tensor's dtype
    assert i.tolist() == [0, 2, 0]


def test_setitem_bumps_version_and_views_see_it():
    x = vt.zeros(3, 4)
    row = x[1]
    before = x._version
    x[1, 2] = 4.0
    assert row[2].item() == 4.0 and x._version > before


def test_getitem_grads(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    g = rng.standard_normal((2, 2)).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x[1:3, ::2][:, 1:]
        y.backward(make.tensor(g))
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


def test_advanced_getitem_grads(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x[[0, 2, 2]] * 2 + x[:, [1, 1]].sum() + x[x > 0].sum()
        y.backward(make.ones(tuple(y.shape)))
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


def test_setitem_under_autograd(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        v = make.tensor(b, requires_grad=True)
        y = x * 2
        y[1] = v * 3
        y[0, :2] = 0.0
        (y * y).backward(make.ones(3, 4))
        if make is torch:
            ref_y, ref_x, ref_v = y, x.grad, v.grad
        else:
            assert_close(y, ref_y)
            assert_close(x.grad, ref_x)
            assert_close(v.grad, ref_v)


def test_setitem_on_leaf_requiring_grad():
    x = vt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with vt.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_index_errors(rng):
    a, x, tx = _base(rng)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        x[4]
    with pytest.raises(IndexError, match="index -7 is out of bounds for dimension 1 with size 5"):
        x[0, -7]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[:, ::0]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match="an index can only have a single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        vt.tensor(1.0)[0]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[vt.tensor([1.0])]
    with pytest.raises(IndexError, match="only integers, slices"):
        x["a"]
    with pytest.raises(IndexError, match="only integers, slices"):
        x[1.5]


def test_advanced_index_errors(rng):
    a, x, tx = _base(rng)
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 0 with size 4"):
        x[[0, 9]]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 0 with size 4"):
        x[vt.tensor([-5])]
    with pytest.raises(IndexError, match=r"shape mismatch: indexing tensors could not be broadcast together with "
                                         r"shapes \[2\], \[3\]"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match=r"The shape of the mask \[3\] at index 0 does not match the shape of the "
                                         r"indexed tensor \[4, 5, 6\] at index 0"):
        x[vt.tensor([True, False, True])]
    with pytest.raises(IndexError, match=r"The shape of the mask \[5, 2\] at index 1 does not match the shape of "
                                         r"the indexed tensor \[4, 5, 6\] at index 2"):
        x[:, vt.zeros(5, 2, dtype=vt.bool)]
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = vt.ones(3)
