"""nn.init.orthogonal_, eye_, dirac_ and sparse_ against torch: the QR under orthogonal_ against torch.linalg.qr
on the same matrix, (semi-)orthogonality and the Haar distribution of the draws (the generators differ, so the
numbers do not), eye_ and dirac_ value for value, sparse_'s zeros per column, argument errors."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor.nn._householder_qr import PANEL, q_with_positive_r


@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (5, 3), (6, 6), (PANEL, PANEL), (PANEL + 1, PANEL + 1),
                                   (70, 40), (100, 2 * PANEL), (130, 3 * PANEL + 5)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_q_matches_torchs_qr_with_the_sign_correction(rng, shape, dtype):
    """orthogonal_'s construction: torch.linalg.qr, Q's columns times the signs of R's diagonal."""
    a = rng.standard_normal(shape).astype(dtype)
    q = q_with_positive_r(vt.tensor(a))
    tq, tr = torch.linalg.qr(torch.tensor(a))
    ref = (tq * tr.diagonal().sign()).numpy()
    assert q.dtype == getattr(vt, dtype) and tuple(q.shape) == shape
    tol = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(q.numpy(), ref, rtol=0, atol=tol)


def test_q_refuses_a_wide_matrix():
    with pytest.raises(ValueError, match="at least as many rows as columns, got 2 x 3"):
        q_with_positive_r(vt.zeros(2, 3))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (16, 16), (8, 3, 3, 3), (2, 4, 5), (300, 100), (40, 129)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, dtype):
    gain = 1.7
    w = vt.empty(*shape, dtype=getattr(vt, dtype))
    assert vt.nn.init.orthogonal_(w, gain=gain) is w
    rows = shape[0]
    m = w.numpy().reshape(rows, -1).astype(np.float64)
    gram = m @ m.T if rows <= m.shape[1] else m.T @ m  # W W^T = gain^2 I for rows <= cols, else W^T W
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), rtol=0, atol=tol * gain ** 2 * 10)
    # torch's draw has the same property (a check on the check)
    tm = torch.nn.init.orthogonal_(torch.empty(*shape, dtype=getattr(torch, dtype)), gain=gain).reshape(rows, -1)
    tgram = tm @ tm.T if rows <= tm.shape[1] else tm.T @ tm
    np.testing.assert_allclose(tgram.double().numpy(), gain ** 2 * np.eye(gram.shape[0]), rtol=0,
                               atol=tol * gain ** 2 * 10)


def _draw_statistics(lib, draws, n):
    """Over many n x n draws: the fraction of positive entries, the mean of W[0, 0]^2 and the fraction of
    determinants +1."""
    mats = np.stack([lib.nn.init.orthogonal_(lib.empty(n, n, dtype=lib.float64)).numpy() for _ in range(draws)])
    return (mats > 0).mean(axis=0), (mats[:, 0, 0] ** 2).mean(), (np.linalg.det(mats) > 0).mean()


def test_orthogonal_draws_are_haar_distributed_as_torchs():
    """Uniform over the orthogonal group: every entry as often positive as negative (a QR without the sign
    correction puts W[0, 0] <= 0 always), W[0, 0]^2 ~ Beta(1/2, (n-1)/2) with mean 1/n, det +1 half the time."""
    vt.manual_seed(0)
    torch.manual_seed(0)
    n, draws = 3, 600
    for lib in (vt, torch):
        positive, square_mean, det_positive = _draw_statistics(lib, draws, n)
        assert np.all(np.abs(positive - 0.5) < 0.08), (lib.__name__, positive)
        assert abs(square_mean - 1 / n) < 0.05, (lib.__name__, square_mean)
        assert abs(det_positive - 0.5) < 0.08, (lib.__name__, det_positive)


def test_orthogonal_generator_and_parameters():
    g = vt.Generator()
    g.manual_seed(7)
    a = vt.nn.init.orthogonal_(vt.empty(4, 6), generator=g)
    g.manual_seed(7)
    b = vt.nn.init.orthogonal_(vt.empty(4, 6), generator=g)
    c = vt.nn.init.orthogonal_(vt.empty(4, 6), generator=g)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(b.numpy(), c.numpy())
    p = vt.nn.Parameter(vt.empty(5, 3))
    assert vt.nn.init.orthogonal_(p) is p and p.is_leaf and p.requires_grad and p.grad_fn is None
    half = vt.nn.init.orthogonal_(vt.empty(4, 6, dtype=vt.float16)).numpy().astype(np.float64)
    assert half.dtype == np.float64 and np.abs(half @ half.T - np.eye(4)).max() < 5e-3
    assert tuple(vt.nn.init.orthogonal_(vt.empty(0, 3)).shape) == (0, 3)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 7), (0, 3)])
def test_eye_matches_torch(shape):
    w = vt.full(shape, 3.0)
    assert vt.nn.init.eye_(w) is w
    np.testing.assert_array_equal(w.numpy(), torch.nn.init.eye_(torch.full(shape, 3.0)).numpy())
    p = vt.nn.Parameter(vt.empty(*shape))
    vt.nn.init.eye_(p)
    assert p.requires_grad and p.grad_fn is None and np.array_equal(p.detach().numpy(), np.eye(*shape))


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 1), ((6, 3, 3, 3), 2), ((6, 2, 3, 4), 3),
                                          ((4, 4, 2, 3, 3), 2), ((2, 5, 3, 3), 1), ((8, 2, 5), 4),
                                          ((3, 3, 2, 2), 1)])
def test_dirac_matches_torch(shape, groups):
    w = vt.full(shape, 5.0)
    assert vt.nn.init.dirac_(w, groups=groups) is w
    np.testing.assert_array_equal(w.numpy(), torch.nn.init.dirac_(torch.full(shape, 5.0), groups=groups).numpy())


def test_dirac_convolution_passes_its_input_through(rng):
    x = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    w = vt.nn.init.dirac_(vt.nn.Parameter(vt.empty(4, 2, 3, 3)), groups=2)
    out = vt.nn.functional.conv2d(vt.tensor(x), w, padding=1, groups=2)
    np.testing.assert_allclose(out.detach().numpy(), x, rtol=0, atol=0)


@pytest.mark.parametrize("shape,sparsity", [((10, 6), 0.3), ((7, 50), 0.5), ((5, 4), 0.0), ((5, 4), 1.0),
                                            ((13, 200), 0.1)])
def test_sparse_zeros_per_column_as_torch(shape, sparsity):
    rows, cols = shape
    num_zeros = math.ceil(sparsity * rows)
    w = vt.empty(*shape)
    assert vt.nn.init.sparse_(w, sparsity, std=0.5) is w
    t = torch.nn.init.sparse_(torch.empty(*shape), sparsity, std=0.5)
    zeros, tzeros = (w.numpy() == 0).sum(axis=0), (t.numpy() == 0).sum(axis=0)
    assert zeros.tolist() == tzeros.tolist() == [num_zeros] * cols
    values = w.numpy()[w.numpy() != 0]
    if values.size > 500:
        assert abs(values.std() - 0.5) < 0.05 and abs(values.mean()) < 0.05


def test_sparse_zeros_are_at_uniform_rows():
    """Each column's zero rows are its own uniform draw: over many columns every row is zero about
    num_zeros / rows of the time, and the columns do not all share one pattern."""
    vt.manual_seed(3)
    rows, cols, sparsity = 8, 4000, 0.25
    w = vt.nn.init.sparse_(vt.empty(rows, cols), sparsity, std=1.0).numpy()
    frequency = (w == 0).mean(axis=1)
    np.testing.assert_allclose(frequency, [0.25] * rows, atol=0.03)
    patterns = {tuple(col) for col in (w == 0).T}
    assert len(patterns) > 20  # C(8, 2) = 28 possible


def test_sparse_generator_reproducible():
    g = vt.Generator()
    g.manual_seed(11)
    a = vt.nn.init.sparse_(vt.empty(9, 7), 0.4, generator=g).numpy()
    g.manual_seed(11)
    b = vt.nn.init.sparse_(vt.empty(9, 7), 0.4, generator=g).numpy()
    assert np.array_equal(a, b)


@pytest.mark.parametrize("call,torch_message", [
    (lambda lib: lib.nn.init.orthogonal_(lib.empty(4)), "Only tensors with 2 or more dimensions are supported"),
    (lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)), "Only tensors with 2 dimensions are supported"),
    (lambda lib: lib.nn.init.dirac_(lib.empty(2, 2)), "Only tensors with 3, 4, or 5 dimensions are supported"),
    (lambda lib: lib.nn.init.dirac_(lib.empty(5, 2, 3), groups=2), "dim 0 must be divisible by groups"),
    (lambda lib: lib.nn.init.sparse_(lib.empty(2, 2, 2), 0.1), "Only tensors with 2 dimensions are supported"),
], ids=["orthogonal_1d", "eye_3d", "dirac_2d", "dirac_groups", "sparse_3d"])
def test_errors_start_with_torchs_message(call, torch_message):
    with pytest.raises(ValueError, match=torch_message):
        call(torch)
    with pytest.raises(ValueError) as got:
        call(vt)
    assert str(got.value).startswith(torch_message)


def test_errors_torch_does_not_raise():
    with pytest.raises(ValueError, match=r"sparsity is the fraction of each column set to zero, expected a number in "
                                         r"\[0, 1\], got 1.5"):
        vt.nn.init.sparse_(vt.empty(4, 4), 1.5)
    with pytest.raises(ValueError, match="groups must be a positive integer, got 0"):
        vt.nn.init.dirac_(vt.empty(4, 2, 3), groups=0)
