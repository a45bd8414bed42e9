"""tril_indices and triu_indices against torch on every device: square, wide and tall matrices, offsets past
either corner, empty matrices, dtypes, and the error paths; the indices select what tril and triu keep."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, randn, to_vt


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row,col", [(3, 3), (3, 5), (5, 2), (1, 1), (0, 4), (4, 0)])
@pytest.mark.parametrize("offset", [0, 1, -1, 3, -5, 9])
def test_triangle_indices(device, name, row, col, offset):
    got = getattr(vt, name)(row, col, offset, device=device)
    assert str(got.device).startswith(device)
    assert_close(got, getattr(torch, name)(row, col, offset))


def test_indices_select_the_triangles_and_dtype(device):
    x = randn((4, 6))
    for name, keep in (("tril_indices", torch.tril), ("triu_indices", torch.triu)):
        idx = getattr(vt, name)(4, 6, 1, dtype=vt.int32, device=device)
        assert idx.dtype is vt.int32
        expected = getattr(torch, name)(4, 6, 1, dtype=torch.int32)
        assert_close(idx, expected)
        mask = torch.zeros(4, 6, dtype=torch.bool)
        mask[expected[0].long(), expected[1].long()] = True
        assert torch.equal(mask, keep(torch.ones(4, 6), 1).bool())
        assert_close(to_vt(x, device)[idx[0].long(), idx[1].long()], x[mask])


def test_errors():
    with pytest.raises(RuntimeError, match=r"tril_indices\(\): row must be non-negative, got -1"):
        vt.tril_indices(-1, 4)
    with pytest.raises(RuntimeError, match=r"triu_indices\(\): col must be non-negative, got -2"):
        vt.triu_indices(3, -2)
    with pytest.raises(TypeError, match=r"tril_indices\(\): dtype must be vibetensor.int64 or vibetensor.int32, got "
                                        "vibetensor.float32"):
        vt.tril_indices(3, 3, dtype=vt.float32)
    with pytest.raises(TypeError, match=r"triu_indices\(\): argument 'row' must be int, not float"):
        vt.triu_indices(3.0, 3)
