"""CUDA graphs: capture and replay of a small training step (linear -> relu -> sum, backward, SGD
update) equals the eager step, step by step; the private pool keeps graph memory alive and
releases it on reset; host synchronizations inside a capture raise a clear error; capture under
alloc.cuda=async/direct is refused (subprocess: the strategy is fixed at first use)."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import vibetensor as vt

from cuda_util import from_torch, requires_gpu
from harness import to_torch

pytestmark = requires_gpu


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(16, 32, generator=g) * 0.1
    b = torch.randn(16, generator=g) * 0.1
    return w, b


def vt_step(w, b, x, lr=0.05):
    """One SGD step on vibetensor tensors, written with ops that capture (no host syncs)."""
    loss = vt.nn.functional.relu(vt.nn.functional.linear(x, w, b)).sum()
    loss.backward()
    with vt.no_grad():
        w.sub_(w.grad * lr)
        b.sub_(b.grad * lr)
        w.grad.zero_()
        b.grad.zero_()
    return loss


def test_training_step_replay_matches_eager():
    w0, b0 = make_params()
    xs = [torch.randn(8, 32) for _ in range(4)]
    # eager reference, in vibetensor on the GPU
    we, be = from_torch(w0).requires_grad_(), from_torch(b0).requires_grad_()
    we.grad, be.grad = vt.zeros_like(we), vt.zeros_like(be)
    eager = []
    for x in xs:
        loss = vt_step(we, be, from_torch(x))
        eager.append((to_torch(loss), to_torch(we.detach()), to_torch(be.detach())))

    w, b = from_torch(w0).requires_grad_(), from_torch(b0).requires_grad_()
    w.grad, b.grad = vt.zeros_like(w), vt.zeros_like(b)
    static_x = from_torch(torch.zeros(8, 32))
    # warm up on a side stream (as torch recommends), then restore the parameters
    s = vt.cuda.Stream()
    s.wait_stream(vt.cuda.current_stream())
    with vt.cuda.stream(s):
        vt_step(w, b, static_x, lr=0.0)
    vt.cuda.current_stream().wait_stream(s)
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        static_loss = vt_step(w, b, static_x)
    for x, (loss_ref, w_ref, b_ref) in zip(xs, eager):
        static_x.copy_(from_torch(x))
        g.replay()
        torch.testing.assert_close(to_torch(static_loss), loss_ref, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(to_torch(w.detach()), w_ref, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(to_torch(b.detach()), b_ref, rtol=1e-5, atol=1e-6)
    g.reset()


def test_pool_keeps_memory_and_reset_releases_it():
    vt.cuda.synchronize()
    vt.cuda.empty_cache()
    x = from_torch(torch.randn(1024, 1024))
    before = vt.cuda.memory_reserved()  # x's segment stays reserved throughout
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        y = (x * 2 + 1).relu()
        z = y * 3  # y's temporaries freed during capture stay in the graph's pool
    del y
    held = vt.cuda.memory_reserved()
    assert held > before
    vt.cuda.empty_cache()  # graph memory is not cached memory: it stays
    assert vt.cuda.memory_reserved() == held
    # eager allocations never get the graph's blocks
    addrs = {vt.empty(1024, 1024, device="cuda").data_ptr() for _ in range(4)}
    assert z.data_ptr() not in addrs
    ref = to_torch(z)
    x.copy_(from_torch(torch.randn(1024, 1024)))
    g.replay()
    torch.testing.assert_close(to_torch(z), ((to_torch(x) * 2 + 1).relu() * 3))
    assert not torch.equal(to_torch(z), ref)
    del z
    g.reset()
    vt.cuda.synchronize()
    vt.cuda.empty_cache()
    assert vt.cuda.memory_reserved() <= before + (2 << 20)


def test_shared_pool_between_graphs():
    x = from_torch(torch.randn(256))
    g1, g2 = vt.cuda.CUDAGraph(), vt.cuda.CUDAGraph()
    with vt.cuda.graph(g1):
        y1 = x + 1
    with vt.cuda.graph(g2, pool=g1.pool()):
        y2 = y1 * 2
    assert g2.pool() == g1.pool()
    g1.replay()
    g2.replay()
    torch.testing.assert_close(to_torch(y2), (to_torch(x) + 1) * 2)
    handle = vt.cuda.graph_pool_handle()
    g3 = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g3, pool=handle):
        x.add_(0)
    assert g3.pool() == handle
    for g in (g1, g2, g3):
        g.reset()


@pytest.mark.parametrize("what", ["synchronize", "item", "copy_d2h", "copy_h2d", "stream_sync"])
def test_host_sync_inside_capture_raises(what):
    x = from_torch(torch.randn(4))
    g = vt.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="CUDA graph capture"):
        with vt.cuda.graph(g):
            y = x * 2
            if what == "synchronize":
                vt.cuda.synchronize()
            elif what == "item":
                y.sum().item()
            elif what == "copy_d2h":
                y.cpu()
            elif what == "copy_h2d":
                vt.ones(4).to("cuda")
            else:
                vt.cuda.current_stream().synchronize()
    assert not vt.cuda.is_current_stream_capturing()
    # the failed capture was dropped; the graph can capture again
    with vt.cuda.graph(g):
        y = x * 2
    g.replay()
    torch.testing.assert_close(to_torch(y), to_torch(x) * 2)


def test_scalar_device_copy_inside_capture_raises():
    x = from_torch(torch.randn(4))
    g = vt.cuda.CUDAGraph()
    with vt.policy.override({"scalars.cuda": "device_copy"}):
        with pytest.raises(RuntimeError, match="scalar_device_copy"):
            with vt.cuda.graph(g):
                x * 2.5


def test_api_errors():
    g = vt.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="nothing was captured"):
        g.replay()
    with pytest.raises(RuntimeError, match="default stream"):
        g.capture_begin()
    with pytest.raises(RuntimeError, match="capture_begin"):
        g.capture_end()
    x = from_torch(torch.randn(4))
    with vt.cuda.graph(g):
        x.add_(1)
    with pytest.raises(RuntimeError, match="reset"):
        with vt.cuda.graph(g):
            pass
    g.reset()


@pytest.mark.parametrize("strategy", ["async", "direct"])
def test_capture_refused_without_caching_allocator(strategy):
    code = textwrap.dedent(f"""
        import vibetensor as vt
        x = vt.ones(4, device="cuda")
        g = vt.cuda.CUDAGraph()
        try:
            with vt.cuda.graph(g):
                x.add_(1)
        except RuntimeError as e:
            assert "alloc.cuda=caching" in str(e), e
            print("REFUSED")
    """)
    env = dict(os.environ, VT_POLICY=f"alloc.cuda={strategy}")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "REFUSED" in out.stdout
