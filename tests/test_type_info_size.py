"""finfo / iinfo against torch's, and vibetensor.Size (what .shape and .size() return) against torch.Size."""
import pickle

import pytest
import torch

import vibetensor as vt
from harness import VT_DTYPE


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_finfo(dtype):
    got, ref = vt.finfo(VT_DTYPE[dtype]), torch.finfo(dtype)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(got, name) == getattr(ref, name), name
    assert repr(got) == repr(ref)
    assert vt.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_iinfo(dtype):
    got, ref = vt.iinfo(VT_DTYPE[dtype]), torch.iinfo(dtype)
    assert (got.bits, got.max, got.min, got.dtype) == (ref.bits, ref.max, ref.min, ref.dtype)
    assert repr(got) == repr(ref)


def test_info_errors():
    with pytest.raises(TypeError, match="torch.finfo\\(\\) requires a floating point input type"):
        vt.finfo(vt.int32)
    with pytest.raises(TypeError, match="torch.iinfo\\(\\) requires an integer input type"):
        vt.iinfo(vt.float32)


def test_size():
    x = vt.zeros(2, 3, 4)
    s, ref = x.shape, torch.zeros(2, 3, 4).shape
    assert type(s) is vt.Size and type(x.size()) is vt.Size
    assert s == ref == (2, 3, 4) and s == [2, 3, 4][:0] + [2, 3, 4] or s == (2, 3, 4)
    assert s.numel() == ref.numel() == 24 and vt.Size([]).numel() == 1
    assert type(s[1:]) is vt.Size and s[1:] == (3, 4) and s[-1] == 4
    assert type(s + (5,)) is vt.Size and s + (5,) == ref + (5,)
    assert repr(s) == "vibetensor.Size([2, 3, 4])" and repr(ref) == "torch.Size([2, 3, 4])"
    assert hash(s) == hash((2, 3, 4)) and isinstance(s, tuple)
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is vt.Size
    assert vt.zeros(s).shape == s and x.view(vt.Size([6, 4])).shape == (6, 4)
    assert type(vt.tensor(1.0).shape) is vt.Size and vt.tensor(1.0).shape == ()
    assert x.stride() == (12, 4, 1) and type(x.stride()) is tuple
    with pytest.raises(TypeError):
        vt.Size([2.5])
