"""vibetensor.linalg's norms against torch.linalg: vector_norm (every ord, dims, keepdim, dtype=), matrix_norm
('fro', 1, -1, inf, -inf; the spectral orders raise NotImplementedError), norm's dispatch, forward and backward
(with torch's gradient at a zero vector and at zero entries, Note [Norm gradients at zero]), and torch's errors."""
import math

import pytest
import torch

import vibetensor as vt
import vibetensor.linalg as LA
from harness import check_op, randn, to_vt, vt_dtype

DTYPES = [torch.float32, torch.float64]
VECTOR_ORDS = [2, 1, math.inf, -math.inf, 0, 3, 0.5, 1.5, -1, -2.5]
DIMS = [None, 0, -1, (0, 2), (-1, 1, 0), ()]
TOL = {torch.float32: dict(rtol=2e-5, atol=2e-6), torch.float64: {}}


def _grads(ord):
    """check_op's grad_of: the 0 norm gives its input no gradient at all (test_zero_norm_leaves_grad_none)."""
    return [ord != 0]


def _input(shape, dtype, seed=0):
    """Random values with no exact ties of |x| (ties make the inf norm's gradient split, tested apart)."""
    return randn(shape, dtype, seed=seed).requires_grad_()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm_matches_torch(ord, dim, keepdim, dtype, device):
    check_op(lambda x: LA.vector_norm(x, ord, dim, keepdim), lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim),
             [_input((3, 4, 5), dtype)], device=device, tol=TOL[dtype], grad_of=_grads(ord))


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm_gradient_at_a_zero_vector_is_zero_as_torch(ord, device):
    """torch defines the (sub)gradient at 0 as 0 (not the nan of d sqrt(s) / ds at s = 0); rows of zeros beside
    ordinary rows, and zero entries in an ordinary row (where |x|^p has an infinite slope for p < 1)."""
    x = torch.tensor([[0.0, 0.0, 0.0], [0.0, -2.0, 1.5], [3.0, 0.0, 0.0]], dtype=torch.float64).requires_grad_()
    check_op(lambda a: LA.vector_norm(a, ord, dim=1), lambda a: torch.linalg.vector_norm(a, ord, dim=1), [x],
             device=device, grad_of=_grads(ord))
    z = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    check_op(lambda a: LA.vector_norm(a, ord), lambda a: torch.linalg.vector_norm(a, ord), [z], device=device,
             grad_of=_grads(ord))


def test_zero_norm_leaves_grad_none_as_torch(device):
    """The 0 norm counts nonzero entries: in the graph (backward runs), but the input gets no gradient."""
    x = torch.tensor([0.0, 2.0, -1.0], requires_grad=True)
    torch.linalg.vector_norm(x, 0).backward()
    v = to_vt(x, device, requires_grad=True)
    n = LA.vector_norm(v, 0)
    assert n.requires_grad and n.item() == 2.0
    n.backward()
    assert x.grad is None and v.grad is None


@pytest.mark.parametrize("ord", [math.inf, -math.inf])
def test_inf_norm_gradient_splits_between_ties_as_torch(ord, device):
    x = torch.tensor([[3.0, -3.0, 1.0], [2.0, 2.0, -2.0]], dtype=torch.float64).requires_grad_()
    check_op(lambda a: LA.vector_norm(a, ord, dim=-1), lambda a: torch.linalg.vector_norm(a, ord, dim=-1), [x],
             device=device)


def test_vector_norm_of_special_values_matches_torch():
    x = torch.tensor([1.0, math.inf, -2.0, 0.0])
    n = torch.tensor([1.0, math.nan])
    for ord in VECTOR_ORDS:
        for t in (x, n):
            check_op(lambda a: LA.vector_norm(a, ord), lambda a: torch.linalg.vector_norm(a, ord), [t],
                     grad_of=[False])


@pytest.mark.parametrize("in_dtype,dtype", [(torch.float32, torch.float64), (torch.float16, torch.float32),
                                            (torch.float16, None), (torch.bfloat16, None), (torch.float64, None)])
def test_vector_norm_dtype_matches_torch(in_dtype, dtype, device):
    x = (randn((4, 6), torch.float64, seed=2) * 200).to(in_dtype)  # sums of squares past 65504 overflow float16
    got = LA.vector_norm(to_vt(x, device), 2, dim=1, dtype=None if dtype is None else vt_dtype(dtype))
    want = torch.linalg.vector_norm(x, 2, dim=1, dtype=dtype)
    assert got.dtype == vt_dtype(want.dtype)
    check_op(lambda a: LA.vector_norm(a, 2, dim=1, dtype=None if dtype is None else vt_dtype(dtype)),
             lambda a: torch.linalg.vector_norm(a, 2, dim=1, dtype=dtype), [x], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [(-2, -1), (-1, -2), (0, 2), (2, 0), (1, -1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_matches_torch(ord, dim, keepdim, dtype, device):
    check_op(lambda x: LA.matrix_norm(x, ord, dim, keepdim), lambda x: torch.linalg.matrix_norm(x, ord, dim, keepdim),
             [_input((2, 3, 4), dtype, seed=1)], device=device, tol=TOL[dtype])


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 3), (2, 3, 0)])
def test_matrix_norm_of_empty_matrices_matches_torch(ord, shape):
    """Sums over an empty dim are 0; a max over an empty dim is 0 in torch, a min has no value (IndexError)."""
    x = torch.zeros(shape)
    try:
        torch.linalg.matrix_norm(x, ord)
    except IndexError:
        with pytest.raises(IndexError, match="size 0"):
            LA.matrix_norm(to_vt(x), ord)
        return
    check_op(lambda a: LA.matrix_norm(a, ord), lambda a: torch.linalg.matrix_norm(a, ord), [x])


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_spectral_matrix_norms_are_refused_by_name(ord):
    with pytest.raises(NotImplementedError, match=f"ord={ord!r} needs the singular values.*'fro', 1, -1, inf, -inf"):
        LA.matrix_norm(vt.ones(3, 3), ord)
    with pytest.raises(NotImplementedError, match="singular values"):
        LA.norm(vt.ones(3, 3), ord)


NORM_CASES = [  # (ord, dim) on a 2-D and a 3-D input: which of vector / matrix norm torch picks
    (None, None), (2, None), (1, None), (math.inf, None), ("fro", None), (-1, None), (3, 1), (1, 0), (2, (0, 1)),
    (None, (0, 1)), (math.inf, (1, 0)), ("fro", (0, 1)), (0.5, -1), (None, -1),
]


@pytest.mark.parametrize("ord,dim", NORM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 3, 4)])
def test_norm_dispatches_as_torch(ord, dim, keepdim, shape, device):
    x = _input(shape, torch.float64, seed=3)
    try:
        torch.linalg.norm(x, ord, dim, keepdim)
    except (RuntimeError, IndexError) as e:  # torch refuses it (ord with a 3-D input and no dim, 'fro' on a vector)
        with pytest.raises(type(e)):
            LA.norm(to_vt(x, device), ord, dim, keepdim)
        return
    if (ord == 2 or ord == -2) and (len(dim) == 2 if isinstance(dim, tuple) else (dim is None and len(shape) == 2)):
        with pytest.raises(NotImplementedError):  # torch's spectral norm
            LA.norm(to_vt(x, device), ord, dim, keepdim)
        return
    check_op(lambda a: LA.norm(a, ord, dim, keepdim), lambda a: torch.linalg.norm(a, ord, dim, keepdim), [x],
             device=device)


def test_norm_takes_dtype_and_is_reachable_as_vt_linalg():
    x = randn((3, 4), torch.float32, seed=4)
    check_op(lambda a: vt.linalg.norm(a, dtype=vt.float64), lambda a: torch.linalg.norm(a, dtype=torch.float64), [x])


def _dtype(L, name):
    """The dtype of that name of the library L belongs to."""
    return getattr(torch if L is torch.linalg else vt, name)


BAD = [
    (lambda L, x: L.vector_norm(x.long()), "Expected a floating point"),
    (lambda L, x: L.vector_norm(x[:0], ord=math.inf), "cannot compute the inf norm on an empty tensor"),
    (lambda L, x: L.vector_norm(x[:0], ord=-1), "cannot compute the -1 norm on an empty tensor"),
    (lambda L, x: L.vector_norm(x[:0], ord=-math.inf, dim=0), "cannot compute the -inf norm"),
    (lambda L, x: L.vector_norm(x, ord="fro"), "ord"),
    (lambda L, x: L.vector_norm(x, dtype=_dtype(L, "int64")), "dtype should be floating point"),
    (lambda L, x: L.vector_norm(x.double(), dtype=_dtype(L, "float32")), "without narrowing"),
    (lambda L, x: L.vector_norm(x, dim=(0, 0)), "appears multiple times"),
    (lambda L, x: L.vector_norm(x, dim=2), "out of range"),
    (lambda L, x: L.matrix_norm(x[0]), "at least 2 dimensions"),
    (lambda L, x: L.matrix_norm(x, ord=3), "Order 3 not supported"),
    (lambda L, x: L.matrix_norm(x, ord="abc"), "Order abc not supported"),
    (lambda L, x: L.matrix_norm(x, dim=(0, 0)), "dims must be different"),
    (lambda L, x: L.matrix_norm(x, dim=(1, -1)), "dims must be different"),
    (lambda L, x: L.matrix_norm(x, dim=(0,)), "dim must be a 2-tuple"),
    (lambda L, x: L.matrix_norm(x, dim=(0, 5)), "out of range"),
    (lambda L, x: L.matrix_norm(x.long()), "Expected a floating point"),
    (lambda L, x: L.norm(x.unsqueeze(0), ord=2), "If dim is not specified but ord is, the input must be 1D or 2D"),
    (lambda L, x: L.norm(x.unsqueeze(0), dim=(0, 1, 2)), "If dim is specified, it must be of length 1 or 2"),
    (lambda L, x: L.norm(x, ord="fro", dim=1), "dim must be a 2-tuple"),
    (lambda L, x: L.norm(x[0], ord="fro"), "at least 2 dimensions"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_raise_what_torch_raises(case):
    fn, message = BAD[case]
    x = randn((3, 4), torch.float32, seed=5)
    try:
        fn(torch.linalg, x)
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        want = type(e)
    else:
        raise AssertionError("the case must fail in torch")
    with pytest.raises(want, match=message):
        fn(vt.linalg, to_vt(x))
