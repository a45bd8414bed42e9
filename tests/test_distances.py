"""cdist and dist against torch on every device: p = 0, 1, 2, 3, 0.5, inf, both compute modes (the matmul way
past 25 rows, Note [cdist's two ways]), batch dims that broadcast, gradients (0 at a zero distance, as torch's),
dtypes, strided inputs, empty dims, and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt

PS = [0, 1, 2, 3, 0.5, math.inf]


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cdist(device, p, dtype):
    x1, x2 = randn((5, 3), dtype).requires_grad_(), randn((4, 3), dtype, seed=1).requires_grad_()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}
    check_op(lambda a, b: vt.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [x1, x2], device, tol=tol)
    check_op(lambda a, b: vt.cdist(a.t().t(), b.t().contiguous().t(), p=p),
             lambda a, b: torch.cdist(a, b, p=p), [x1, x2], device, tol=tol)
    m = randn((3, 6), dtype, seed=2).requires_grad_()  # a transposed view as x1
    check_op(lambda a, b: vt.cdist(a.t(), b, p), lambda a, b: torch.cdist(a.t(), b, p), [m, x2], device, tol=tol)


@pytest.mark.parametrize("p", PS)
def test_cdist_batches_broadcast(device, p):
    x1, x2 = randn((2, 1, 4, 3), torch.float64).requires_grad_(), randn((5, 2, 3), torch.float64, seed=1).requires_grad_()
    check_op(lambda a, b: vt.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [x1, x2], device)


@pytest.mark.parametrize("p", PS)
def test_cdist_zero_distances(device, p):
    # a row of x1 equal to one of x2, and a shared coordinate: torch's gradient is 0 there, not nan
    x1 = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]], dtype=torch.float64).requires_grad_()
    x2 = torch.tensor([[0.0, 0.0], [1.0, 5.0]], dtype=torch.float64).requires_grad_()
    check_op(lambda a, b: vt.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [x1, x2], device)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
@pytest.mark.parametrize("rows", [4, 30])
def test_cdist_compute_modes(device, mode, rows):
    x1 = randn((rows, 8), torch.float64).requires_grad_()
    x2 = randn((27, 8), torch.float64, seed=1).requires_grad_()
    check_op(lambda a, b: vt.cdist(a, b, compute_mode=mode), lambda a, b: torch.cdist(a, b, compute_mode=mode),
             [x1, x2], device, tol=dict(rtol=1e-10, atol=1e-10))


def test_cdist_edges_and_errors(device):
    for s1, s2 in [((0, 3), (2, 3)), ((2, 0), (3, 0)), ((1, 1), (1, 1))]:
        a, b = randn(s1), randn(s2, seed=1)
        assert_close(vt.cdist(to_vt(a, device), to_vt(b, device)), torch.cdist(a, b))
    a = to_vt(randn((2, 3)), device)
    with pytest.raises(RuntimeError, match="cdist only supports at least 2D tensors, X1 got: 1D"):
        vt.cdist(to_vt(randn((3,)), device), a)
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. X1: 3 X2: 4"):
        vt.cdist(a, to_vt(randn((2, 4)), device))
    with pytest.raises(RuntimeError, match="cdist only supports non-negative p values"):
        vt.cdist(a, a, p=-1)
    with pytest.raises(RuntimeError, match="cdist only supports floating-point dtypes"):
        vt.cdist(to_vt(rand((2, 3), torch.int64), device), to_vt(rand((2, 3), torch.int64), device))
    with pytest.raises(RuntimeError, match="cdist: X1 and X2 must have the same dtype"):
        vt.cdist(a, to_vt(randn((2, 3), torch.float64), device))
    with pytest.raises(ValueError, match="x is not a valid value for compute_mode"):
        vt.cdist(a, a, compute_mode="x")
    with pytest.raises(RuntimeError, match="shape mismatch"):
        vt.cdist(to_vt(randn((2, 4, 3)), device), to_vt(randn((3, 2, 3)), device))


@pytest.mark.parametrize("p", [2, 1, 3, 0, math.inf])
def test_dist(device, p):
    # torch's backward at p = 0 raises ("Expected a proper Tensor but got None"): values only there, and
    # vibetensor's gradient, 0, on its own below
    a, b = randn((3, 4)).requires_grad_(p != 0), randn((4,), seed=1).requires_grad_(p != 0)
    check_op(lambda x, y: vt.dist(x, y, p), lambda x, y: torch.dist(x, y, p), [a, b], device,
             tol=dict(rtol=1e-5, atol=1e-6))
    check_op(lambda x, y: x.t().dist(y.t(), p), lambda x, y: x.t().dist(y.t(), p), [a, a.detach().flip(0)], device,
             tol=dict(rtol=1e-5, atol=1e-6), grad_of=[p != 0, False])


def test_dist_p0_gradient_is_zero(device):
    a = to_vt(randn((3, 4)), device, requires_grad=True)
    vt.dist(a, to_vt(randn((4,), seed=1), device), 0).backward()
    assert_close(a.grad, torch.zeros(3, 4))


@pytest.mark.parametrize("p", [2, 3, 0.5, -1])
def test_dist_gradient_where_input_equals_other(device, p):
    """dist at a zero difference (or a zero entry of it): torch's gradient is 0 there, not the nan of
    sqrt(sum(d^2)) or sum(|d|^p)^(1/p) composed (it goes through linalg.vector_norm)."""
    a = torch.tensor([[1.0, 0.0], [2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    for other in (a.detach().clone(), torch.tensor([[1.0, 1.0], [2.0, 3.0]], dtype=torch.float64)):
        check_op(lambda x: vt.dist(x, to_vt(other, device), p), lambda t: torch.dist(t, other, p), [a], device)


def test_dist_refuses_integer_inputs_as_torch(device):
    with pytest.raises(RuntimeError, match="floating point"):
        vt.dist(to_vt(torch.tensor([1, 2]), device), to_vt(torch.tensor([3, 4]), device))
