"""matmul (and the bmm / linear composites over it) against torch on every device: every shape class,
dtypes, transposed, strided and expanded operands, forward and backward, errors. CUDA only: cuBLAS's
TF32 switch, per-thread handles, mixed devices."""
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

from harness import CPU, CUDA_ONLY, ops, assert_close, to_torch, to_vt

TOL = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}


def check_matmul(device, ta, tb, dtype=torch.float32, a=None, b=None):
    """ta, tb: torch leaves; a, b: the matching vibetensor operands (views) when not plain copies."""
    a = to_vt(ta, device) if a is None else a
    b = to_vt(tb, device) if b is None else b
    a.requires_grad = True
    b.requires_grad = True
    ta = ta.detach().requires_grad_(True)
    tb = tb.detach().requires_grad_(True)
    ref = torch.matmul(ta, tb)
    out = ops.matmul(a, b)
    assert tuple(out.shape) == tuple(ref.shape)
    torch.testing.assert_close(to_torch(out), ref.detach(), **TOL[dtype])
    g = torch.randn(ref.shape, dtype=dtype)
    ref.backward(g)
    _C._backward([out], [to_vt(g, device)], False)
    assert tuple(a.grad.shape) == tuple(ta.shape) and tuple(b.grad.shape) == tuple(tb.shape)
    torch.testing.assert_close(to_torch(a.grad), ta.grad, **TOL[dtype])
    torch.testing.assert_close(to_torch(b.grad), tb.grad, **TOL[dtype])


SHAPES = [
    ((5,), (5,)),                   # dot
    ((3, 5), (5,)),                 # mv
    ((5,), (5, 4)),                 # vector @ matrix
    ((3, 5), (5, 4)),               # mm
    ((2, 3, 5), (5, 4)),            # batched @ shared matrix (folds into one gemm)
    ((2, 3, 5), (5,)),
    ((5,), (2, 5, 4)),
    ((3, 5), (2, 2, 5, 4)),         # shared left matrix
    ((2, 3, 5), (2, 5, 4)),         # bmm
    ((1, 3, 5), (4, 5, 2)),         # broadcast batch, left batch all ones
    ((2, 3, 5), (1, 5, 4)),         # broadcast batch, right batch all ones
    ((64, 8, 8), (64, 8, 8)),       # many small products (parallel batches)
    ((40, 70), (70, 90)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_shapes(device, sa, sb, dtype):
    torch.manual_seed(0)
    check_matmul(device, torch.randn(sa, dtype=dtype), torch.randn(sb, dtype=dtype), dtype)


@pytest.mark.parametrize("sa,sb", [((2, 1, 3, 5), (4, 5, 6)), ((3, 1, 2, 4), (1, 5, 4, 3))])
def test_matmul_broadcast_batch_needing_reduction(device, sa, sb):
    check_matmul(device, torch.randn(sa, dtype=torch.float64), torch.randn(sb, dtype=torch.float64), torch.float64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matmul_transposed_operands(device, dtype):
    # Transposed views reach gemm as Trans operands; results and grads must not change.
    for sa, sb in [((4, 6), (7, 4)), ((3, 4, 6), (3, 7, 4)), ((3, 4, 6), (7, 4))]:
        xa, xb = torch.randn(sa, dtype=dtype), torch.randn(sb, dtype=dtype)
        a = ops.transpose(to_vt(xa, device), -1, -2)
        b = ops.transpose(to_vt(xb, device), -1, -2)
        assert not a.is_contiguous() and not b.is_contiguous()
        check_matmul(device, xa.transpose(-1, -2).contiguous(), xb.transpose(-1, -2).contiguous(), dtype, a, b)


def test_matmul_strided_and_expanded_operands(device):
    base = torch.randn(2, 5, 12, dtype=torch.float64)
    # Rows not evenly spaced across batches (no fold), columns unit-stride.
    check_matmul(device, base[:, :3, :6].contiguous(), torch.randn(6, 4, dtype=torch.float64), torch.float64,
                 a=ops.slice(ops.slice(to_vt(base, device), 1, 0, 3, 1), 2, 0, 6, 1))
    # Neither dim unit-stride: copied before gemm.
    check_matmul(device, base[:, :, ::2].contiguous(), torch.randn(2, 6, 3, dtype=torch.float64), torch.float64,
                 a=ops.slice(to_vt(base, device), 2, None, None, 2))
    # A stride-0 batch dim (expand) and a stride-0 column dim.
    x = torch.randn(1, 3, 4, dtype=torch.float64)
    col = torch.randn(4, 1, dtype=torch.float64)
    a = ops.expand(to_vt(x, device), [5, 3, 4])
    b = ops.expand(to_vt(col, device), [4, 6])
    out = ops.matmul(a, b)
    torch.testing.assert_close(to_torch(out), x.expand(5, 3, 4) @ col.expand(4, 6), **TOL[torch.float64])


def test_matmul_large_against_torch(device):
    torch.manual_seed(1)
    xa, xb = torch.randn(130, 257), torch.randn(257, 190)
    torch.testing.assert_close(to_torch(ops.matmul(to_vt(xa, device), to_vt(xb, device))), xa @ xb, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_matmul_integer(device, dtype):
    if device == "cuda":
        pytest.skip("cuBLAS has no integer gemm: CUDA matmul raises NotImplementedError (test_cuda_matmul_errors)")
    xa = torch.randint(-5, 5, (2, 3, 4), dtype=dtype)
    xb = torch.randint(-5, 5, (4, 6), dtype=dtype)
    a = ops.transpose(to_vt(xa.transpose(-1, -2).contiguous(), device), -1, -2)
    assert torch.equal(to_torch(ops.matmul(a, to_vt(xb, device))), xa @ xb)
    assert torch.equal(to_torch(ops.matmul(to_vt(xa[0, 0], device), to_vt(xb, device))), xa[0, 0] @ xb)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_matmul_half_smoke(device, dtype):
    xa, xb = torch.randn(2, 8, 16).to(dtype), torch.randn(16, 4).to(dtype)
    a, b = to_vt(xa, device), to_vt(xb, device)
    a.requires_grad = True
    out = ops.matmul(a, b)
    assert out.dtype == getattr(_C.dtype, str(dtype).split(".")[1])
    ref = xa.float() @ xb.float()
    torch.testing.assert_close(to_torch(out).float(), ref, rtol=2e-2, atol=5e-2)
    g = torch.randn(2, 8, 4).to(dtype)
    _C._backward([out], [to_vt(g, device)], False)
    torch.testing.assert_close(to_torch(a.grad).float(), g.float() @ xb.float().T, rtol=2e-2, atol=5e-2)


def test_matmul_empty_and_zero_inner(device):
    out = ops.matmul(to_vt(torch.randn(3, 0), device), to_vt(torch.randn(0, 4), device))
    assert torch.equal(to_torch(out), torch.zeros(3, 4))
    assert tuple(ops.matmul(to_vt(torch.randn(0, 3, 5), device), to_vt(torch.randn(5, 2), device)).shape) == (0, 3, 2)


def test_bmm_and_linear(device):
    xa, xb = torch.randn(3, 4, 5, dtype=torch.float64), torch.randn(3, 5, 2, dtype=torch.float64)
    torch.testing.assert_close(to_torch(ops.bmm(to_vt(xa, device), to_vt(xb, device))), torch.bmm(xa, xb))
    # linear: input (B, T, in) @ W^T; W's gradient comes from the folded (B*T) product.
    x, w = torch.randn(2, 3, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    vx, vw = to_vt(x, device, requires_grad=True), to_vt(w, device, requires_grad=True)
    out = ops.linear(vx, vw, None)
    tx, tw = x.clone().requires_grad_(), w.clone().requires_grad_()
    ref = torch.nn.functional.linear(tx, tw)
    torch.testing.assert_close(to_torch(out), ref.detach())
    g = torch.randn(2, 3, 4, dtype=torch.float64)
    ref.backward(g)
    _C._backward([out], [to_vt(g, device)], False)
    torch.testing.assert_close(to_torch(vw.grad), tw.grad)
    torch.testing.assert_close(to_torch(vx.grad), tx.grad)


def test_matmul_errors(device):
    with pytest.raises(ValueError, match=r"\[3, 4\].*\[5, 6\]"):
        ops.matmul(to_vt(torch.randn(3, 4), device), to_vt(torch.randn(5, 6), device))
    with pytest.raises(ValueError, match=r"\[2, 3, 4\].*\[2, 5, 6\]"):
        ops.matmul(to_vt(torch.randn(2, 3, 4), device), to_vt(torch.randn(2, 5, 6), device))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        ops.matmul(to_vt(torch.randn(2, 3, 4), device), to_vt(torch.randn(3, 4, 5), device))
    with pytest.raises(ValueError, match="at least 1-D"):
        ops.matmul(to_vt(torch.tensor(1.0), device), to_vt(torch.randn(3), device))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.matmul(to_vt(torch.randn(2, 2), device), to_vt(torch.randn(2, 2, dtype=torch.float64), device))
    with pytest.raises(TypeError, match="bool"):
        ops.matmul(to_vt(torch.ones(2, 2, dtype=torch.bool), device), to_vt(torch.ones(2, 2, dtype=torch.bool), device))


# ==== every dtype and layout (the cuBLAS paths on CUDA) =======================================

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
def test_shape_classes_all_dtypes(device, sa, sb, dt):
    a, b = torch.randn(sa).to(dt), torch.randn(sb).to(dt)
    out = ops.matmul(to_vt(a, device), to_vt(b, device))
    assert out.device.type == device
    assert_close(out, ref_matmul(a, b), **tol(dt, sa[-1]))


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("case", ["aT", "bT", "both", "strided_a", "strided_b", "batch_perm", "expanded"])
def test_layouts_all_dtypes(device, case, dt):
    """Transposed views go to cuBLAS without a copy, truly strided ones are copied; all agree with torch."""
    A, B = torch.randn(4, 6, 8).to(dt), torch.randn(4, 8, 5).to(dt)
    va, vb = to_vt(A, device), to_vt(B, device)
    if case in ("aT", "both"):
        A = A.transpose(1, 2).contiguous().transpose(1, 2)
        va = ops.transpose(to_vt(A.transpose(1, 2), device), 1, 2)
    if case in ("bT", "both"):
        B = B.transpose(1, 2).contiguous().transpose(1, 2)
        vb = ops.transpose(to_vt(B.transpose(1, 2), device), 1, 2)
    if case == "strided_a":
        big = torch.randn(4, 12, 16).to(dt)
        A = big[:, ::2, ::2]
        va = ops.slice(ops.slice(to_vt(big, device), 1, 0, 12, 2), 2, 0, 16, 2)
    if case == "strided_b":
        big = torch.randn(4, 8, 15).to(dt)
        B = big[:, :, ::3]
        vb = ops.slice(to_vt(big, device), 2, 0, 15, 3)
    if case == "batch_perm":  # batch dim innermost in memory
        base = torch.randn(6, 8, 4).to(dt)
        A = base.permute(2, 0, 1)
        va = ops.permute(to_vt(base, device), [2, 0, 1])
    if case == "expanded":  # a broadcast (stride-0) batch of the right operand
        b2 = torch.randn(8, 5).to(dt)
        B = b2.expand(4, 8, 5)
        vb = ops.expand(to_vt(b2, device), [4, 8, 5])
    assert_close(ops.matmul(va, vb), ref_matmul(A, B), **tol(dt, 8))


@pytest.mark.parametrize("dt", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_linear_3d_input(device, dt):
    x, w, bias = torch.randn(3, 7, 16).to(dt), torch.randn(12, 16).to(dt), torch.randn(12).to(dt)
    got = ops.linear(to_vt(x, device), to_vt(w, device), to_vt(bias, device))
    ref = ref_matmul(x, w.t()) + bias
    assert_close(got, ref.to(dt), **tol(dt, 16))


@pytest.mark.parametrize("dt", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("sa,sb", [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 1, 3, 5), (4, 5, 6)), ((5,), (2, 5, 4)),
                                   ((3, 5), (5,))], ids=str)
def test_backward_through_tensor_api(device, sa, sb, dt):
    a = torch.randn(sa, dtype=dt, requires_grad=True)
    b = torch.randn(sb, dtype=dt, requires_grad=True)
    (a @ b).sin().sum().backward()
    va = vt.from_dlpack(a.detach().clone()).to(device).requires_grad_()
    vb = vt.from_dlpack(b.detach().clone()).to(device).requires_grad_()
    vt.matmul(va, vb).sin().sum().backward()
    assert_close(va.grad, a.grad, **tol(dt, sa[-1]))
    assert_close(vb.grad, b.grad, **tol(dt, sa[-1]))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_tf32_switch_changes_float32_bits(device):
    assert vt.backends.cuda.matmul.allow_tf32 is False  # off by default, as in torch
    a, b = torch.randn(256, 4096), torch.randn(4096, 256)
    va, vb = to_vt(a, device), to_vt(b, device)
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


def test_errors_all_devices(device):
    a, b = to_vt(torch.randn(3, 4), device), to_vt(torch.randn(5, 6), device)
    with pytest.raises(ValueError, match="cannot be multiplied"):
        ops.matmul(a, b)
    with pytest.raises(ValueError, match="at least 1-D"):
        ops.matmul(to_vt(torch.tensor(1.0), device), a)
    with pytest.raises(ValueError):
        ops.matmul(to_vt(torch.randn(2, 3, 4), device), to_vt(torch.randn(3, 4, 5), device))  # batch 2 vs 3
    with pytest.raises(TypeError, match="same dtype"):
        ops.matmul(a, to_vt(torch.randn(4, 2, dtype=torch.float64), device))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_cuda_matmul_errors(device):
    a = to_vt(torch.randn(3, 4), device)
    with pytest.raises(RuntimeError, match="device"):
        ops.matmul(a, ops.to_device(to_vt(torch.randn(4, 2), device), CPU))
    with pytest.raises(NotImplementedError, match="float32"):
        ops.matmul(to_vt(torch.ones(2, 2, dtype=torch.int64), device), to_vt(torch.ones(2, 2, dtype=torch.int64), device))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_threads_share_no_handle(device):
    """Several Python threads multiplying at once (one cuBLAS handle per thread and device)."""
    import threading

    a, b = torch.randn(64, 64), torch.randn(64, 64)
    ref = ref_matmul(a, b)
    va, vb = to_vt(a, device), to_vt(b, device)
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
