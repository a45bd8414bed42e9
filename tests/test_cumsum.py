"""cumsum (vt::cumsum) against torch on every device: values and gradients over dims, dtypes and the dtype
argument, strided, 0-d and empty inputs, long rows (torch's double accumulation), errors."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cumsum_values_and_gradient(device, dtype, dim):
    x = randn((4, 5, 6), dtype).requires_grad_()
    check_op(lambda v: vt.cumsum(v, dim), lambda t: torch.cumsum(t, dim), [x], device)
    check_op(lambda v: v.cumsum(dim), lambda t: t.cumsum(dim), [x], device)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool, torch.float16, torch.bfloat16])
def test_cumsum_dtypes(device, dtype):
    x = randn((3, 50), dtype)
    assert_close(vt.cumsum(to_vt(x, device), 1), torch.cumsum(x, 1))  # integers and bool: int64, as sum


def test_cumsum_dtype_argument_and_its_gradient():
    x = randn((3, 7)).requires_grad_()
    check_op(lambda v: vt.cumsum(v, 1, dtype=vt.float64), lambda t: torch.cumsum(t, 1, dtype=torch.float64), [x])
    assert_close(vt.cumsum(to_vt(randn((5,), torch.int64)), 0, dtype=vt.float32),
                 torch.cumsum(randn((5,), torch.int64), 0, dtype=torch.float32))


def test_cumsum_long_row_strided_0d_empty(device):
    x = randn((3, 20000))
    assert_close(vt.cumsum(to_vt(x, device).t(), 0), torch.cumsum(x.t(), 0), rtol=1e-5, atol=1e-4)
    for shape, dim in (((), 0), ((), -1), ((0, 4), 1), ((3, 0), 1)):
        t = randn(shape).requires_grad_()
        check_op(lambda v: vt.cumsum(v, dim), lambda u: torch.cumsum(u, dim), [t], device)


def test_errors():
    with pytest.raises(IndexError, match=r"cumsum: dimension out of range \(expected to be in range of \[-2, 1\], "
                                         r"but got 2\)"):
        vt.cumsum(vt.randn(2, 3), 2)
    with pytest.raises(TypeError, match="cumsum: dtype=torch.bool is not supported"):
        vt.cumsum(vt.randn(2, 3), 0, dtype=vt.bool)
