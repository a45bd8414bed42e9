"""Whole-step capture on a GPU (Note [Whole-step capture]): the workloads' steps captured once with
vt.cuda.graphed_step and replayed give the eager step's losses and weights (the same kernels: bitwise);
a host sync inside the step is named at capture and the eager path keeps working with no memory left
behind; random ops inside the step draw fresh numbers at every replay, the eager steps' numbers; new shapes and changed policies capture again; the vibe preset is refused; the
runner's step.capture=graph cell matches its eager cell."""
import pytest
import torch

import vibetensor as vt
from vibetensor.experiments import runner
from vibetensor.experiments.workloads import registry

from cuda_util import requires_gpu
from harness import to_torch

pytestmark = requires_gpu
F = vt.nn.functional

SMALL = {"seq_reverse": {"dim": 64, "heads": 2, "layers": 2, "batch": 16},
         "minigpt": {"dim": 64, "heads": 2, "layers": 2, "batch": 4, "seq": 32, "vocab": 300,
                     "synthetic_bytes": 1 << 15, "capturable": True},
         "mnist_mlp": {"batch": 64, "hidden": 64, "synthetic_size": 1024},
         "mnist_mlp_manual": {"batch": 64, "hidden": 64, "synthetic_size": 1024}}


def _params(wl):
    model = wl.model
    return [to_torch(p) for p in model.parameters()]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_captured_workload_steps_equal_eager(name, tmp_path):
    opts = {**SMALL[name], **({"cache_dir": str(tmp_path)} if name == "minigpt" else {})}
    eager, graphed = (registry.build(name, vt, "cuda", opts) for _ in range(2))
    step = vt.cuda.graphed_step(graphed.train_step, warmup=2)
    eb = [eager.next_batch() for _ in range(8)]
    le = [eager.step(b) for b in eb]
    lg = [step(*graphed.next_batch()).item() for _ in range(8)]
    assert step.captures == 1 and step.replays == 6
    assert lg == le  # the same kernels in the same order: bitwise
    # replay() alone runs the step once more on the static inputs, which hold the last batch
    step.replay()
    eager.train_step(*eb[-1])
    assert step.replays == 7
    for a, b in zip(_params(eager), _params(graphed)):
        assert a.equal(b)


def test_host_sync_in_the_step_is_named_and_eager_keeps_working():
    w = vt.randn(32, 32, device="cuda", requires_grad=True)
    x = vt.randn(8, 32, device="cuda")
    start = vt.cuda.memory_allocated()

    def syncing(x):
        loss = (x @ w).square().mean()
        print(loss.item())
        return loss

    step = vt.cuda.graphed_step(syncing, warmup=0)
    with pytest.raises(RuntimeError, match=r"graphed_step: capturing syncing failed: CUDA graph capture: '.*' makes the "
                                           r"host wait"):
        step(x)
    loss = (x @ w).square().mean()  # eager still works
    loss.backward()
    assert w.grad is not None and vt.cuda.memory_allocated() >= start
    del loss
    w.grad = None
    step.reset()
    assert vt.cuda.memory_allocated() == start


def test_random_numbers_in_a_captured_step_are_fresh_per_replay_and_match_eager():
    """Note [Random numbers under capture]: each replay takes fresh counters from the generator, so the
    replayed steps draw what the same number of eager steps from the same seed draws, bit for bit."""
    x = vt.randn(64, 256, device="cuda")

    def fn(x):
        return F.dropout(x, 0.5, training=True) + vt.rand(64, 256, device="cuda") + vt.randn(256, device="cuda")

    vt.manual_seed(123)
    step = vt.cuda.graphed_step(fn, warmup=1)
    got = [to_torch(step(x)).clone() for _ in range(5)]
    assert step.captures == 1 and step.replays == 4
    vt.manual_seed(123)
    want = [to_torch(fn(x)) for _ in range(5)]
    for g, w in zip(got, want):
        assert torch.equal(g, w)
    assert not torch.equal(got[1], got[2])  # two replays, two draws
    vt.manual_seed(7)  # a new seed between replays takes effect
    again = to_torch(step(x)).clone()
    vt.manual_seed(7)
    assert torch.equal(again, to_torch(fn(x)))


def test_new_shapes_and_policies_capture_again():
    w = vt.randn(16, 16, device="cuda")
    step = vt.cuda.graphed_step(lambda x: (x @ w).sum(-1), warmup=0)
    a, b = vt.randn(4, 16, device="cuda"), vt.randn(6, 16, device="cuda")
    assert to_torch(step(a)).allclose(to_torch((a @ w).sum(-1)))
    assert to_torch(step(b)).allclose(to_torch((b @ w).sum(-1))) and step.captures == 2
    a2 = vt.randn(4, 16, device="cuda")
    assert to_torch(step(a2)).allclose(to_torch((a2 @ w).sum(-1))) and step.captures == 3
    assert to_torch(step(a2)).allclose(to_torch((a2 @ w).sum(-1))) and step.captures == 3
    with vt.policy.override({"probes.counters": "off" if vt.policy.get("probes.counters") == "on" else "on"}):
        step(a2)
    assert step.captures == 4


def test_the_vibe_preset_is_refused():
    """The vibe preset's worker threads (autograd.workers=spawn) are refused; the preset itself cannot be applied
    here, in a process whose allocator already runs (alloc.segments is fixed at first use)."""
    step = vt.cuda.graphed_step(lambda x: x * 2, warmup=0)
    with vt.policy.override({"autograd.workers": "spawn"}):
        with pytest.raises(RuntimeError, match="cannot capture a step under autograd.workers=spawn"):
            step(vt.ones(2, device="cuda"))


def test_runner_captures_the_step_and_matches_eager():
    opts = SMALL["seq_reverse"]
    recs = {mode: runner.run_cell("seq_reverse", "vibetensor", "cuda", steps=6, warmup=2,
                                  policy={"step.capture": mode}, options=opts, probe_steps=0, gpu_steps=0)
            for mode in ("eager", "graph")}
    assert recs["graph"]["capture"] == {"captures": 1, "replays": 7}
    assert recs["graph"]["losses"] == recs["eager"]["losses"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_capturable_multi_tensor_adam_on_cuda_matches_the_cpu_op(dtype, amsgrad):
    """Note [Capturable multi-tensor Adam]: vt::_fused_adamw_capturable_ on CUDA (a count-increment launch,
    then the update with per-block bias corrections) against the same op on the CPU, three steps, over 40
    tensors (more than one launch's 36) of which one spans more than one launch's 320 blocks of 65536
    elements and one is empty; then captured in a CUDA graph and replayed: the counts and the updates go on."""
    g = torch.Generator().manual_seed(5)
    shapes = [(21_000_001,), (0, 4)] + [(17 + i, 3) for i in range(38)]
    vdt = vt.float32 if dtype == torch.float32 else vt.bfloat16
    sets = {}
    for dev in ("cpu", "cuda"):
        g.manual_seed(5)
        ps = [vt.from_numpy(torch.randn(s, generator=g).numpy()).to(dev).to(vdt) for s in shapes]
        state = dict(p=ps, m=[vt.zeros_like(p) for p in ps], v=[vt.zeros_like(p) for p in ps],
                     vmax=[vt.zeros_like(p) for p in ps] if amsgrad else [],
                     steps=[vt.zeros((), device=dev) for _ in ps])
        sets[dev] = state
    g.manual_seed(6)
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(3)]

    def step(dev, k):
        s = sets[dev]
        gs = [vt.from_numpy(x.numpy()).to(dev).to(vdt) for x in grads[k]]
        vt._C._ops._fused_adamw_capturable_(s["p"], gs, s["m"], s["v"], s["vmax"], s["steps"], 0.01, 0.9, 0.99,
                                            0.1, 1e-8, True, False)

    for k in range(3):
        for dev in ("cpu", "cuda"):
            step(dev, k)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-2, atol=1e-2)
    for a, b in zip(sets["cpu"]["p"], sets["cuda"]["p"]):
        torch.testing.assert_close(to_torch(b).float(), to_torch(a).float(), **tol)
    assert [float(t) for t in sets["cuda"]["steps"]] == [3.0] * len(shapes)
    s = sets["cuda"]
    gs = [vt.from_numpy(x.numpy()).to("cuda").to(vdt) for x in grads[0]]
    graph = vt.cuda.CUDAGraph()
    with vt.cuda.graph(graph):
        vt._C._ops._fused_adamw_capturable_(s["p"], gs, s["m"], s["v"], s["vmax"], s["steps"], 0.01, 0.9, 0.99,
                                            0.1, 1e-8, True, False)
    before = to_torch(s["p"][2]).float().clone()
    graph.replay()
    graph.replay()
    vt.cuda.synchronize()
    assert [float(t) for t in s["steps"]] == [5.0] * len(shapes)  # capture ran nothing; two replays, two steps
    assert not torch.equal(to_torch(s["p"][2]).float(), before)
