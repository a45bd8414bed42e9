"""The embedding family (kernels/triton/embedding.py) under Triton's interpreter against torch: the gather
of weight rows (int64 and int32 indices, a weight with a row stride past its columns, dims that are not
multiples of the column block) and the deterministic backward over stably sorted indices (segments that
span several pieces, single entries, unused rows), and the bad-index records under CHECK."""
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from _families import interpreted_family  # noqa: E402

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "bfloat16": dict(rtol=1e-2, atol=1e-2)}
# (n_weights, index shape, dim): a small vocabulary over many positions (segments across pieces), a wide
# one that leaves rows unused, dims below, at and past the column block
CASES = [(5, (4, 25), 33), (300, (70,), 16), (36, (3, 40), 130), (7, (9,), 600)]


def _index(n_weights, shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, n_weights, shape, generator=g).to(dtype)


def _gather(E, w, idx, bad=None):
    n, dim = idx.numel(), w.shape[1]
    out = torch.full((n, dim), -7.0, dtype=w.dtype)
    c = E.config_embedding_fwd(dim)
    grid = (triton_cdiv(n, c["ROWS"]), triton_cdiv(dim, c["BLOCK"]))
    E.KERNELS["embedding_fwd"][grid](w, idx.reshape(-1), out, bad if bad is not None else torch.zeros(2, dtype=torch.int64),
                                     n, dim, w.shape[0], w.stride(0), int(bad is not None), c["ROWS"], c["BLOCK"])
    return out


def _backward(E, grad, idx, n_weights, bad=None):
    n, dim = idx.numel(), grad.shape[-1]
    keys, pos = torch.sort(idx.reshape(-1).long(), stable=True)
    partial = torch.full((n, dim), float("nan"))
    gw = torch.zeros(n_weights, dim, dtype=grad.dtype)
    g = grad.reshape(n, dim).contiguous()
    c = E.config_embedding_bwd_pieces(dim)
    E.KERNELS["embedding_bwd_pieces"][(triton_cdiv(n, c["PIECE"]), triton_cdiv(dim, c["BLOCK"]))](
        keys, pos, g, partial, n, dim, c["PIECE"], c["BLOCK"])
    c = E.config_embedding_bwd_segments(dim)
    E.KERNELS["embedding_bwd_segments"][(n, triton_cdiv(dim, c["BLOCK"]))](
        keys, partial, gw, bad if bad is not None else torch.zeros(2, dtype=torch.int64), n, dim, n_weights,
        int(bad is not None), c["PIECE"], c["BLOCK"])
    return gw


def triton_cdiv(a, b):
    return (a + b - 1) // b


@pytest.mark.parametrize("dtype", list(TOL))
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32], ids=["i64", "i32"])
@pytest.mark.parametrize("case", CASES, ids=[f"V{c[0]}-n{c[1]}-d{c[2]}" for c in CASES])
def test_forward_and_backward_match_torch(case, index_dtype, dtype):
    n_weights, shape, dim = case
    E = interpreted_family("embedding")
    td = getattr(torch, dtype)
    base = torch.randn(n_weights, dim + 3).to(td)
    w = base[:, :dim]  # rows 3 elements apart past the columns
    idx = _index(n_weights, shape, index_dtype, seed=dim)
    out = _gather(E, w, idx)
    torch.testing.assert_close(out, torch.nn.functional.embedding(idx.long(), w).reshape(-1, dim), rtol=0, atol=0)
    grad = torch.randn(*shape, dim).to(td)
    ref_w = w.detach().float().clone().requires_grad_()
    torch.nn.functional.embedding(idx.long(), ref_w).backward(grad.float())
    gw = _backward(E, grad, idx, n_weights)
    torch.testing.assert_close(gw.float(), ref_w.grad, **TOL[dtype])


def test_backward_is_bitwise_reproducible():
    E = interpreted_family("embedding")
    idx = _index(3, (200,), torch.int64, seed=1)
    grad = torch.randn(200, 24)
    first = _backward(E, grad, idx, 3)
    assert torch.equal(first, _backward(E, grad, idx, 3))


def test_bad_index_recorded_never_read():
    E = interpreted_family("embedding")
    w = torch.randn(6, 20)
    idx = torch.tensor([1, 9, 2, -4])
    bad = torch.zeros(2, dtype=torch.int64)
    out = _gather(E, w, idx, bad)
    assert bad[0] == 1 and int(bad[1]) in (9, -4)
    torch.testing.assert_close(out[0], w[1]) and torch.testing.assert_close(out[2], w[2])
    assert torch.isnan(out[1]).all() and torch.isnan(out[3]).all()
    bad = torch.zeros(2, dtype=torch.int64)
    gw = _backward(E, torch.ones(4, 20), idx, 6, bad)
    assert bad[0] == 1 and int(bad[1]) in (9, -4)
    expected = torch.zeros(6, 20)
    expected[1] = expected[2] = 1
    torch.testing.assert_close(gw, expected)
