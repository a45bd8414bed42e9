"""F.normalize, F.cosine_similarity and F.pairwise_distance (and nn.CosineSimilarity, nn.PairwiseDistance)
against torch on every device: values and gradients over dims and p-norms, broadcasting, float32 and float64,
strided inputs, zero vectors (a zero gradient where the norm is zero, the eps clamp) and the errors."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt

F = vt.nn.functional
TF = torch.nn.functional
DTYPES = [torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (2, -1), (1.0, 0), (3.0, 1), (0.5, 1), (math.inf, 1), (-math.inf, 0)],
                         ids=str)
def test_normalize(device, p, dim, dtype):
    x = randn((4, 5, 3), dtype, seed=1).requires_grad_()
    check_op(lambda v: F.normalize(v, p=p, dim=dim), lambda t: TF.normalize(t, p=p, dim=dim), [x], device,
             tol=dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else None)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_normalize_zero_and_tiny_vectors(device, p):
    """A zero row stays zero with a finite gradient; rows below eps are divided by eps, as torch's."""
    x = torch.tensor([[0.0, 0.0, 0.0], [1e-14, -2e-14, 0.0], [3.0, -4.0, 1.0]], dtype=torch.float64)
    check_op(lambda v: F.normalize(v, p=p, dim=1), lambda t: TF.normalize(t, p=p, dim=1), [x.requires_grad_()],
             device)


def test_normalize_strided_and_eps(device):
    base = randn((5, 4), seed=2)
    check_op(lambda v: F.normalize(v, dim=0, eps=0.5), lambda t: TF.normalize(t, dim=0, eps=0.5),
             [base.t().contiguous().requires_grad_()], device, vt_inputs=[to_vt(base, device).transpose(0, 1)])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shapes,dim", [(((4, 6), (4, 6)), 1), (((4, 6), (4, 6)), 0), (((3, 1, 5), (4, 5)), -1),
                                        (((2, 3, 4), (1, 3, 4)), 1), (((6,), (6,)), 0)], ids=str)
def test_cosine_similarity(device, shapes, dim, dtype):
    a, b = (randn(s, dtype, seed=i).requires_grad_() for i, s in enumerate(shapes))
    check_op(lambda x, y: F.cosine_similarity(x, y, dim=dim), lambda x, y: TF.cosine_similarity(x, y, dim=dim),
             [a, b], device, tol=dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else None)


def test_cosine_similarity_zero_vectors_and_eps(device):
    """Norms below eps are clamped in value only: the gradient still flows through the norm, as torch's."""
    a = torch.tensor([[0.0, 0.0, 0.0], [1e-3, 2e-3, -1e-3], [1.0, 2.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 2.0, 0.5], [2e-3, -1e-3, 1e-3], [0.0, 0.0, 0.0]], dtype=torch.float64)
    for eps in (1e-8, 1e-2):
        check_op(lambda x, y: F.cosine_similarity(x, y, eps=eps), lambda x, y: TF.cosine_similarity(x, y, eps=eps),
                 [a.clone().requires_grad_(), b.clone().requires_grad_()], device)


def test_cosine_similarity_promotes_integers(device):
    a, b = torch.tensor([[1, 2, 3]]), torch.tensor([[1.0, 0.0, -1.0]], dtype=torch.float64)
    assert_close(F.cosine_similarity(to_vt(a, device), to_vt(b, device)), TF.cosine_similarity(a, b))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(device, p, keepdim, dtype):
    a, b = randn((5, 4), dtype, seed=1), randn((5, 4), dtype, seed=2)
    a.view(-1)[:3] = b.view(-1)[:3] - 1e-6  # so that p = 0 counts fewer than all
    if p == 0:  # a count: torch's gradient is none, vibetensor's zeros (its engine fills the sub's undefined one)
        x = to_vt(a, device, requires_grad=True)
        out = F.pairwise_distance(x, to_vt(b, device), p=0.0, keepdim=keepdim)
        assert_close(out, TF.pairwise_distance(a, b, p=0.0, keepdim=keepdim))
        out.sum().backward()
        assert x.grad is None or bool((x.grad == 0).all())
        return
    a, b = a.requires_grad_(), b.requires_grad_()
    check_op(lambda x, y: F.pairwise_distance(x, y, p=p, keepdim=keepdim),
             lambda x, y: TF.pairwise_distance(x, y, p=p, keepdim=keepdim), [a, b], device,
             tol=dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else None)


@pytest.mark.parametrize("shapes", [((4,), (3, 4)), ((3, 4), (1, 4)), ((2, 3, 4), (2, 3, 4)), ((4,), (4,))], ids=str)
def test_pairwise_distance_broadcasts(device, shapes):
    a, b = (randn(s, torch.float64, seed=i).requires_grad_() for i, s in enumerate(shapes))
    check_op(lambda x, y: F.pairwise_distance(x, y, eps=0.1), lambda x, y: TF.pairwise_distance(x, y, eps=0.1),
             [a, b], device)


def test_pairwise_distance_of_equal_inputs_without_eps(device):
    """x1 == x2 and eps = 0: a zero norm, whose gradient is zero (not nan), as torch's."""
    a = randn((3, 4), torch.float64, seed=3)
    check_op(lambda x, y: F.pairwise_distance(x, y, eps=0.0), lambda x, y: TF.pairwise_distance(x, y, eps=0.0),
             [a.clone().requires_grad_(), a.clone().requires_grad_()], device)


def test_modules(device):
    a, b = randn((3, 5), seed=1).requires_grad_(), randn((3, 5), seed=2).requires_grad_()
    check_op(lambda x, y: vt.nn.CosineSimilarity(dim=0, eps=1e-6)(x, y),
             lambda x, y: torch.nn.CosineSimilarity(dim=0, eps=1e-6)(x, y), [a, b], device)
    check_op(lambda x, y: vt.nn.PairwiseDistance(p=1.0, keepdim=True)(x, y),
             lambda x, y: torch.nn.PairwiseDistance(p=1.0, keepdim=True)(x, y), [a, b], device)
    assert repr(vt.nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    assert vt.nn.PairwiseDistance(3.0).norm == torch.nn.PairwiseDistance(3.0).norm == 3.0


def test_errors():
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet common dtype is int64"):
        F.cosine_similarity(vt.tensor([1, 2]), vt.tensor([3, 4]), dim=0)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.cosine_similarity(vt.randn(3, 2), vt.randn(4, 2))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.cosine_similarity(vt.randn(3, 2), vt.randn(3, 2), dim=2)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.pairwise_distance(vt.randn(3, 2), vt.randn(4, 2))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.normalize(vt.randn(3, 2), dim=2)
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got int64"):
        F.normalize(vt.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="p must be a real number"):
        F.normalize(vt.randn(3, 2), p="fro")


@pytest.mark.parametrize("p", [0.5, 3.0, -1.0])
def test_zero_entries_give_torch_gradients_not_nan(device, p):
    """An entry (or a whole difference) that is exactly 0: |x|^p's slope there is inf * 0 for p < 1 and the root's
    is 0 / 0; torch's gradients are finite (the shared linalg.vector_norm, Note [Norm gradients at zero])."""
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    if p > 0:
        check_op(lambda v: F.normalize(v, p=p, dim=1), lambda t: TF.normalize(t, p=p, dim=1), [x], device)
    check_op(lambda v: F.pairwise_distance(v, to_vt(y, device), p=p, eps=0.0),
             lambda t: TF.pairwise_distance(t, y, p=p, eps=0.0), [x], device)
