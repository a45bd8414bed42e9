"""vt::_fused_cross_entropy and its backward (Note [Fused cross-entropy] in csrc/ops/cross_entropy_fused.h)
against torch.nn.functional.cross_entropy on every device: reductions, ignore_index, dtypes, shapes from
one class to a vocabulary past the kernels' looped width, non-contiguous logits, the (loss, logsumexp,
count) outputs, autograd through the op, and bad input. On CUDA these run the ops' math path under the
default kernels.backend=native; tests/gpu/test_suite_cross_entropy.py runs the Triton kernels."""
import pytest
import torch
import torch.nn.functional as F

from harness import assert_close, check_op, ops, randn, to_torch, to_vt

REDUCTIONS = ["mean", "sum", "none"]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-9),
       torch.bfloat16: dict(rtol=2e-2, atol=2e-2)}


def targets(n, c, ignore=-100, seed=0, every=3):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, c, (n,), generator=g)
    if every:
        t[::every] = ignore
    return t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 1), (37, 36), (64, 65), (5, 1000), (3, 9000)], ids=str)
def test_matches_torch_forward_and_backward(device, shape, reduction):
    n, c = shape
    x = randn(shape, torch.float32, seed=1, scale=3.0).requires_grad_()
    t = targets(n, c)
    check_op(lambda a: ops._fused_cross_entropy(a, to_vt(t, device), -100, reduction)[0],
             lambda a: F.cross_entropy(a, t, ignore_index=-100, reduction=reduction), [x], device, TOL[torch.float32])


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16], ids=["f64", "bf16"])
def test_dtypes(device, dtype):
    x = randn((33, 100), dtype, seed=2, scale=2.0).requires_grad_()
    t = targets(33, 100, every=4)
    ref = (lambda a: F.cross_entropy(a, t)) if dtype == torch.float64 else (lambda a: F.cross_entropy(a.float(), t).to(dtype))
    out, _ = check_op(lambda a: ops._fused_cross_entropy(a, to_vt(t, device), -100, "mean")[0], ref, [x], device,
                      TOL[dtype])
    assert out.dtype == to_vt(torch.zeros(1, dtype=dtype)).dtype


def test_outputs_are_loss_logsumexp_and_count(device):
    x = randn((10, 7), torch.float32, seed=3)
    t = targets(10, 7, ignore=5, every=4)  # rows 0, 4, 8 ignored
    loss, lse, count = ops._fused_cross_entropy(to_vt(x, device), to_vt(t, device), 5, "mean")
    assert_close(lse, torch.logsumexp(x, 1))
    assert int(to_torch(count)) == int((t != 5).sum()) and tuple(count.shape) == ()
    assert_close(loss, F.cross_entropy(x, t, ignore_index=5))
    _, _, count = ops._fused_cross_entropy(to_vt(x, device), to_vt(t, device), 5, "sum")
    assert tuple(count.shape) == (0,)  # only mean needs the divisor


def test_ignore_index_inside_the_class_range(device):
    x = randn((12, 6), torch.float32, seed=4).requires_grad_()
    t = targets(12, 6, every=0)
    check_op(lambda a: ops._fused_cross_entropy(a, to_vt(t, device), 2, "mean")[0],
             lambda a: F.cross_entropy(a, t, ignore_index=2), [x], device, TOL[torch.float32])


def test_every_row_ignored_gives_nan_mean_and_zero_gradient(device):
    x = to_vt(randn((4, 5), torch.float32, seed=5), device, requires_grad=True)
    t = to_vt(torch.full((4,), -100), device)
    loss = ops._fused_cross_entropy(x, t, -100, "mean")[0]
    assert torch.isnan(to_torch(loss))
    ops._fused_cross_entropy(x, t, -100, "sum")[0].backward()
    assert torch.equal(to_torch(x.grad), torch.zeros(4, 5))


def test_non_contiguous_logits(device):
    base = randn((50, 40), torch.float32, seed=6)
    x = base.t()  # (40, 50), column-major
    t = targets(40, 50)
    vx = ops.transpose(to_vt(base, device), 0, 1)
    check_op(lambda a: ops._fused_cross_entropy(a, to_vt(t, device), -100, "mean")[0],
             lambda a: F.cross_entropy(a, t), [x.requires_grad_()], device, TOL[torch.float32], vt_inputs=[vx])


def test_empty_batch(device):
    x = to_vt(torch.zeros(0, 5), device)
    t = to_vt(torch.zeros(0, dtype=torch.int64), device)
    assert torch.isnan(to_torch(ops._fused_cross_entropy(x, t, -100, "mean")[0]))
    assert to_torch(ops._fused_cross_entropy(x, t, -100, "sum")[0]) == 0
    assert tuple(ops._fused_cross_entropy(x, t, -100, "none")[0].shape) == (0,)


def test_backward_op_checks_its_operands(device):
    x, t = to_vt(randn((4, 5), torch.float32), device), to_vt(targets(4, 5, every=0), device)
    loss, lse, count = ops._fused_cross_entropy(x, t, -100, "mean")
    with pytest.raises(ValueError, match=r"_fused_cross_entropy_backward: expected a grad of the loss's shape \[\], got \[4\]"):
        ops._fused_cross_entropy_backward(to_vt(torch.ones(4), device), x, t, lse, count, -100, "mean")
    with pytest.raises(ValueError, match="expected a float32 logsumexp of shape"):
        ops._fused_cross_entropy_backward(to_vt(torch.tensor(1.0), device), x, t, x, count, -100, "mean")
    with pytest.raises(ValueError, match="expected an int64 0-d count"):
        ops._fused_cross_entropy_backward(to_vt(torch.tensor(1.0), device), x, t, lse, lse, -100, "mean")


def test_bad_input(device):
    x = to_vt(randn((4, 5), torch.float32), device)
    t = to_vt(targets(4, 5, every=0), device)
    with pytest.raises(TypeError, match="_fused_cross_entropy: expected a target of class indices with dtype int64"):
        ops._fused_cross_entropy(x, to_vt(torch.zeros(4, dtype=torch.int32), device), -100, "mean")
    with pytest.raises(TypeError, match="expected floating point logits"):
        ops._fused_cross_entropy(t, t, -100, "mean")
    with pytest.raises(ValueError, match=r"expected logits of shape \(N, C\) with C >= 1, got \[2, 2, 5\]"):
        ops._fused_cross_entropy(ops.reshape(x, [2, 2, 5]), t, -100, "mean")
    with pytest.raises(ValueError, match=r"expected a target of shape \(4\)"):
        ops._fused_cross_entropy(x, to_vt(torch.zeros(3, dtype=torch.int64), device), -100, "mean")
    with pytest.raises(ValueError, match="avg"):
        ops._fused_cross_entropy(x, t, -100, "avg")


def test_class_index_out_of_range_raises_on_cpu():
    x, t = to_vt(randn((3, 5), torch.float32)), to_vt(torch.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="out of bounds"):
        ops._fused_cross_entropy(x, t, -100, "mean")
