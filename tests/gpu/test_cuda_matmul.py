"""CUDA matmul over cuBLAS vs torch: every shape class (dot, mv, vm, mm, batched with broadcast
batch dims), float32/float64/float16/bfloat16, transposed and strided operands, backward through
vibetensor autograd, the TF32 switch, and the error paths."""
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

from cuda_util import CPU, cuda, from_torch, ops, requires_gpu
from harness import assert_close, to_torch

pytestmark = requires_gpu

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
SHAPES = [
    ((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 4)), ((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((5,), (2, 5, 4)),
    ((2, 3, 5), (5,)), ((2, 3, 5), (2, 5, 4)), ((2, 1, 3, 5), (4, 5, 6)), ((1, 3, 5), (4, 5, 2)),
    ((2, 1, 3, 5), (1, 4, 5, 6)), ((0, 5), (5, 4)), ((3, 0), (0, 4)), ((0, 3, 5), (0, 5, 4)),
    ((64, 96), (96, 80)), ((7, 33, 65), (65, 17)),
]


def ref_matmul(a, b):
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cpu" and a.dtype in (torch.float16, torch.bfloat16):
        return (a.float() @ b.float()).to(a.dtype)
    return (a.to(dev) @ b.to(dev)).cpu()


def tol(dt, k):
    # Accumulation order differs from the reference: scale with sqrt(k) for the half types.
    if dt == torch.float16:
        return dict(rtol=2e-3, atol=2e-3 * max(k, 1) ** 0.5)
    if dt == torch.bfloat16:
        return dict(rtol=1.6e-2, atol=1.6e-2 * max(k, 1) ** 0.5)
    if dt == torch.float32:
        return dict(rtol=1e-5, atol=1e-5 * max(k, 1) ** 0.5)
    return {}


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("sa,sb", SHAPES, ids=str)
def test_shapes(sa, sb, dt):
    a, b = torch.randn(sa).to(dt), torch.randn(sb).to(dt)
    out = ops.matmul(from_torch(a), from_torch(b))
    assert out.device.type == "cuda"
    assert_close(out, ref_matmul(a, b), **tol(dt, sa[-1]))


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("case", ["aT", "bT", "both", "strided_a", "strided_b", "batch_perm", "expanded"])
def test_layouts(case, dt):
    """Transposed views go to cuBLAS without a copy, truly strided ones are copied; all agree with torch."""
    A, B = torch.randn(4, 6, 8).to(dt), torch.randn(4, 8, 5).to(dt)
    va, vb = from_torch(A), from_torch(B)
    if case in ("aT", "both"):
        A = A.transpose(1, 2).contiguous().transpose(1, 2)
        va = ops.transpose(from_torch(A.transpose(1, 2)), 1, 2)
    if case in ("bT", "both"):
        B = B.transpose(1, 2).contiguous().transpose(1, 2)
        vb = ops.transpose(from_torch(B.transpose(1, 2)), 1, 2)
    if case == "strided_a":
        big = torch.randn(4, 12, 16).to(dt)
        A = big[:, ::2, ::2]
        va = ops.slice(ops.slice(from_torch(big), 1, 0, 12, 2), 2, 0, 16, 2)
    if case == "strided_b":
        big = torch.randn(4, 8, 15).to(dt)
        B = big[:, :, ::3]
        vb = ops.slice(from_torch(big), 2, 0, 15, 3)
    if case == "batch_perm":  # batch dim innermost in memory
        base = torch.randn(6, 8, 4).to(dt)
        A = base.permute(2, 0, 1)
        va = ops.permute(from_torch(base), [2, 0, 1])
    if case == "expanded":  # a broadcast (stride-0) batch of the right operand
        b2 = torch.randn(8, 5).to(dt)
        B = b2.expand(4, 8, 5)
        vb = ops.expand(from_torch(b2), [4, 8, 5])
    assert_close(ops.matmul(va, vb), ref_matmul(A, B), **tol(dt, 8))


@pytest.mark.parametrize("dt", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_linear_3d_input(dt):
    x, w, bias = torch.randn(3, 7, 16).to(dt), torch.randn(12, 16).to(dt), torch.randn(12).to(dt)
    got = ops.linear(from_torch(x), from_torch(w), from_torch(bias))
    ref = ref_matmul(x, w.t()) + bias
    assert_close(got, ref.to(dt), **tol(dt, 16))


@pytest.mark.parametrize("dt", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("sa,sb", [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 1, 3, 5), (4, 5, 6)), ((5,), (2, 5, 4)),
                                   ((3, 5), (5,))], ids=str)
def test_backward(sa, sb, dt):
    a = torch.randn(sa, dtype=dt, requires_grad=True)
    b = torch.randn(sb, dtype=dt, requires_grad=True)
    (a @ b).sin().sum().backward()
    va = vt.from_dlpack(a.detach().clone()).to("cuda").requires_grad_()
    vb = vt.from_dlpack(b.detach().clone()).to("cuda").requires_grad_()
    vt.matmul(va, vb).sin().sum().backward()
    assert_close(va.grad, a.grad, **tol(dt, sa[-1]))
    assert_close(vb.grad, b.grad, **tol(dt, sa[-1]))


def test_tf32_switch_changes_float32_bits():
    assert vt.backends.cuda.matmul.allow_tf32 is False  # off by default, as in torch
    a, b = torch.randn(256, 4096), torch.randn(4096, 256)
    va, vb = from_torch(a), from_torch(b)
    exact = to_torch(ops.matmul(va, vb))
    try:
        vt.backends.cuda.matmul.allow_tf32 = True
        assert vt.backends.cuda.matmul.allow_tf32 is True
        fast = to_torch(ops.matmul(va, vb))
    finally:
        vt.backends.cuda.matmul.allow_tf32 = False
    ref = a.double() @ b.double()
    err_exact = (exact.double() - ref).abs().max().item()
    err_fast = (fast.double() - ref).abs().max().item()
    assert not torch.equal(exact, fast)
    assert err_fast > 4 * err_exact  # TF32 rounds inputs to 10 mantissa bits
    torch.testing.assert_close(fast.double(), ref, rtol=0, atol=0.5)  # still a matmul
    with pytest.raises(TypeError):
        vt.backends.cuda.matmul.allow_tf32 = 1


def test_errors():
    a, b = from_torch(torch.randn(3, 4)), from_torch(torch.randn(5, 6))
    with pytest.raises(ValueError, match="cannot be multiplied"):
        ops.matmul(a, b)
    with pytest.raises(ValueError, match="at least 1-D"):
        ops.matmul(from_torch(torch.tensor(1.0)), a)
    with pytest.raises(ValueError):
        ops.matmul(from_torch(torch.randn(2, 3, 4)), from_torch(torch.randn(3, 4, 5)))  # batch 2 vs 3
    with pytest.raises(RuntimeError, match="device"):
        ops.matmul(a, ops.to_device(from_torch(torch.randn(4, 2)), CPU))
    with pytest.raises(TypeError, match="same dtype"):
        ops.matmul(a, from_torch(torch.randn(4, 2, dtype=torch.float64)))
    with pytest.raises(NotImplementedError, match="float32"):
        ops.matmul(from_torch(torch.ones(2, 2, dtype=torch.int64)), from_torch(torch.ones(2, 2, dtype=torch.int64)))


def test_threads_share_no_handle():
    """Several Python threads multiplying at once (one cuBLAS handle per thread and device)."""
    import threading

    a, b = torch.randn(64, 64), torch.randn(64, 64)
    ref = ref_matmul(a, b)
    va, vb = from_torch(a), from_torch(b)
    errors = []

    def work():
        try:
            s = vt.cuda.Stream()
            with vt.cuda.stream(s):
                for _ in range(50):
                    out = ops.matmul(va, vb)
                s.synchronize()
            assert_close(out, ref, **tol(torch.float32, 64))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
