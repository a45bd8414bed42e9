"""The kernel suite's "attention" family on a GPU (Note [Fused attention] in kernels/triton/attention.py):
with kernels.backend=triton, scaled_dot_product_attention runs the fused Triton kernels through
vt::_fused_attention, forward and backward, against torch (fp32 and bf16, causal or not, sequence
lengths off the block sizes, [B, T, H, D] tensors seen as [B, H, T, D] without a copy); the report
shows the launches; masks, dropout and other head dims fall back with a reason and still match torch.
Skipped without a GPU or Triton."""
import pytest
import torch
import torch.nn.functional as F

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import assert_close, backward, check_op, ops, randn, to_torch, to_vt

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]

# (rtol, atol) of outputs and of gradients. fp32 runs full fp32 products (no tf32); bf16 rounds
# P and dS to bf16 before their products, as flash attention does.
TOL = {torch.float32: (dict(rtol=1e-4, atol=2e-5), dict(rtol=1e-4, atol=5e-5)),
       torch.bfloat16: (dict(rtol=2e-2, atol=2e-2, check_dtype=False), dict(rtol=3e-2, atol=5e-2))}

# The workloads' shapes (fp32, T = 64, 80, 128, D = 32), sequence lengths off the blocks, long ones.
SHAPES = [(4, 8, 64, 32), (2, 8, 80, 32), (4, 16, 128, 32), (1, 3, 77, 64), (2, 2, 17, 16), (1, 2, 2048, 128),
          (1, 2, 2048, 64)]



def _launches():
    return launches("attention")


def _fallbacks():
    return fallbacks("attention")


def _reference(causal, scale=None):
    # bf16 inputs: the reference computes in fp32 from the same rounded values.
    return lambda q, k, v: F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal, scale=scale)


def _bthd(shape, dtype, seed):
    """A torch [B, H, T, D] tensor and a vibetensor CUDA view of it made from a [B, T, H, D] tensor."""
    B, H, T, D = shape
    x = randn((B, T, H, D), dtype, seed)
    return x.transpose(1, 2), ops.transpose(to_vt(x, cuda()), 1, 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fused_sdpa_matches_torch(shape, causal, dtype):
    q, k, v = (randn(shape, dtype, seed) for seed in (1, 2, 3))
    tol, grad_tol = TOL[dtype]
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, None, 0.0, causal, None), _reference(causal),
             [q, k, v], cuda(), tol, grad_tol, grad_of=[True, True, True], seed=7)
    # forward + the three backward kernels
    assert _launches() == 4 and not _fallbacks(), suite.report()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_strided_bthd_inputs_need_no_copy(causal, dtype):
    pairs = [_bthd((2, 4, 80, 32), dtype, seed) for seed in (1, 2, 3)]
    tol, grad_tol = TOL[dtype]
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, None, 0.0, causal, 0.2),
             _reference(causal, 0.2), [t for t, _ in pairs], cuda(), tol, grad_tol, grad_of=[True, True, True], seed=3,
             vt_inputs=[v for _, v in pairs])
    assert _launches() == 4 and not _fallbacks(), suite.report()


def test_fp16_runs_fused():
    q, k, v = (randn((2, 4, 64, 64), torch.float16, seed) for seed in (1, 2, 3))
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, None, 0.0, True, None), _reference(True),
             [q, k, v], cuda(), dict(rtol=5e-3, atol=5e-3, check_dtype=False), dict(rtol=1e-2, atol=1e-2),
             grad_of=[True, True, True])
    assert _launches() == 4


def test_backward_is_deterministic():
    q, k, v = (randn((2, 4, 128, 64), torch.bfloat16, seed) for seed in (1, 2, 3))
    g = randn((2, 4, 128, 64), torch.bfloat16, 4)
    grads = []
    for _ in range(2):
        leaves = [to_vt(x, cuda(), requires_grad=True) for x in (q, k, v)]
        backward(ops.scaled_dot_product_attention(*leaves, None, 0.0, True, None), g)
        grads.append([to_torch(x.grad) for x in leaves])
    for a, b in zip(*grads):
        assert torch.equal(a, b)


def test_the_op_returns_the_logsumexp():
    q, k, v = (randn((2, 3, 77, 32), torch.float32, seed) for seed in (1, 2, 3))
    out, lse = ops._fused_attention(*(to_vt(x, cuda()) for x in (q, k, v)), True, 0.25)
    s = (q @ k.transpose(-1, -2) * 0.25).masked_fill(torch.ones(77, 77, dtype=torch.bool).triu(1), float("-inf"))
    assert_close(out, torch.softmax(s, -1) @ v, rtol=1e-4, atol=2e-5)
    assert_close(lse, s.logsumexp(-1), rtol=1e-5, atol=1e-5)


def test_native_backend_runs_the_ops_math_path():
    q, k, v = (randn((2, 3, 64, 32), torch.float32, seed) for seed in (1, 2, 3))
    with vt.policy.override({"kernels.backend": "native"}):
        check_op(lambda a, b, c: ops._fused_attention(a, b, c, False, 0.125)[0], _reference(False, 0.125), [q, k, v],
                 cuda(), dict(rtol=1e-4, atol=2e-5), grad_of=[True, True, True])
    assert _launches() == 0


# ---- what falls back ---------------------------------------------------------------------------

def test_mask_falls_back_with_a_reason():
    q, k, v = (randn((2, 4, 64, 32), torch.float32, seed) for seed in (1, 2, 3))
    mask = torch.rand(64, 64, generator=torch.Generator().manual_seed(4)) > 0.3
    mask[:, 0] = True
    mv = to_vt(mask, cuda())
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, mv, 0.0, False, None),
             lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), [q, k, v], cuda(),
             dict(rtol=1e-4, atol=2e-5), grad_of=[True, True, True])
    assert _launches() == 0 and _fallbacks() == {"an attn_mask is given": 1}


def test_dropout_falls_back_with_a_reason():
    q, k, v = (to_vt(randn((2, 4, 64, 32), torch.float32, seed), cuda()) for seed in (1, 2, 3))
    out = ops.scaled_dot_product_attention(q, k, v, None, 0.3, False, None)
    assert tuple(out.shape) == (2, 4, 64, 32)
    assert _launches() == 0 and _fallbacks() == {"dropout_p > 0": 1}


@pytest.mark.parametrize("shape,why", [((2, 4, 64, 48), "head dim 48 is not one of 16, 32, 64, 128"),
                                       ((4, 64, 32), "expected 4-D query, key and value")])
def test_other_shapes_fall_back_and_match_torch(shape, why):
    q, k, v = (randn(shape, torch.float32, seed) for seed in (1, 2, 3))
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, None, 0.0, True, None),
             lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v], cuda(),
             dict(rtol=1e-4, atol=2e-5), grad_of=[True, True, True])
    (reason, n), = _fallbacks().items()
    assert _launches() == 0 and n == 1 and reason.startswith(why), reason


def test_float64_falls_back():
    q = to_vt(randn((1, 2, 16, 32), torch.float64, 1), cuda())
    ops.scaled_dot_product_attention(q, q, q, None, 0.0, False, None)
    (reason, _), = _fallbacks().items()
    assert "float32, bfloat16, float16" in reason


def test_bad_direct_calls_raise_one_clear_error():
    q = to_vt(randn((1, 2, 16, 48)), cuda())
    with pytest.raises(ValueError, match="_fused_attention: head dim 48 is not one of 16, 32, 64, 128"):
        ops._fused_attention(q, q, q, False, 1.0)
    q = to_vt(randn((1, 2, 16, 32)), cuda())
    out, lse = ops._fused_attention(q, q, q, False, 1.0)
    with pytest.raises(ValueError, match="expected a float32 logsumexp of shape"):
        ops._fused_attention_backward(out, q, q, q, out, out, False, 1.0)
    with pytest.raises(ValueError, match="expected grad_out of query's shape"):
        ops._fused_attention_backward(lse, q, q, q, out, lse, False, 1.0)
