"""Whole-step capture on the CPU side (Note [Whole-step capture], Note [Captured steps in the runner]):
the workloads' train_step is their step, capturable Adam/AdamW (device step count) updates as the
host-step one and as torch, the policies a capture cannot take are named, and the runner refuses
step.capture=graph off CUDA while eager cells run as before. tests/gpu/test_step_capture_gpu.py
captures and replays on a GPU."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor.cuda.graphed_step import check_capturable_policies
from vibetensor.experiments import runner
from vibetensor.experiments.workloads import registry

from harness import assert_close, to_vt

SMALL = {"seq_reverse": {"dim": 32, "heads": 2, "layers": 1, "batch": 4},
         "minigpt": {"dim": 32, "heads": 2, "layers": 1, "batch": 2, "seq": 16, "vocab": 300, "synthetic_bytes": 1 << 14},
         "mnist_mlp": {"batch": 16, "hidden": 32, "synthetic_size": 256},
         "mnist_mlp_manual": {"batch": 16, "hidden": 32, "synthetic_size": 256}}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_train_step_is_the_step(name, tmp_path):
    """step(batch) == train_step(*batch).item(): two instances from one seed give the same losses."""
    opts = {**SMALL[name], **({"cache_dir": str(tmp_path)} if name == "minigpt" else {})}
    a, b = (registry.build(name, vt, "cpu", opts) for _ in range(2))
    la = [a.step(a.next_batch()) for _ in range(3)]
    lb = [b.train_step(*b.next_batch()).item() for _ in range(3)]
    assert la == lb


@pytest.mark.parametrize("path", [dict(foreach=False), dict(), dict(fused=True)],
                         ids=["per_param", "multi_tensor", "fused"])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
def test_capturable_adam_matches_the_host_step_and_torch(amsgrad, decoupled, path):
    """capturable=True with the step count on the parameter's device: the per-parameter path, and the
    multi-tensor op vt::_fused_adamw_capturable_ (Note [Capturable multi-tensor Adam]) that fused=True and
    optim.step=multi_tensor (the tuned preset's) take."""
    g = torch.Generator().manual_seed(0)
    w0 = torch.randn(5, 7, generator=g)
    grads = [torch.randn(5, 7, generator=g) for _ in range(6)]
    cls_vt, cls_t = (vt.optim.AdamW, torch.optim.AdamW) if decoupled else (vt.optim.Adam, torch.optim.Adam)
    kw = dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=amsgrad)
    params = {}
    for capturable in (False, True):
        p = to_vt(w0, requires_grad=True)
        opt = cls_vt([p], capturable=capturable, **kw, **(path if capturable else {}))
        for gr in grads:
            p.grad = to_vt(gr)
            opt.step()
        params[capturable] = p
        if capturable:
            assert str(opt.state[p]["step"].device) == "cpu" and tuple(opt.state[p]["step"].shape) == ()
    t = w0.clone().requires_grad_()
    topt = cls_t([t], **kw)
    for gr in grads:
        t.grad = gr.clone()
        topt.step()
    assert_close(params[True], t.detach(), rtol=1e-5, atol=1e-6)
    assert_close(params[False], t.detach(), rtol=1e-5, atol=1e-6)


def test_capturable_multi_tensor_step_advances_every_count_once_per_step():
    """Two parameters of two dtypes (two buckets) and one without a gradient: each count on the device is
    advanced once per step, the gradient-less parameter's state is never made."""
    ps = [vt.nn.Parameter(vt.ones(4)), vt.nn.Parameter(vt.ones(3, dtype=vt.float64)), vt.nn.Parameter(vt.ones(2))]
    opt = vt.optim.AdamW(ps, lr=0.1, capturable=True, fused=True)
    for _ in range(3):
        ps[0].grad, ps[1].grad = vt.ones(4), vt.ones(3, dtype=vt.float64)
        opt.step()
    assert [float(opt.state[p]["step"]) for p in ps[:2]] == [3.0, 3.0] and not opt.state[ps[2]]


def test_capturable_multi_tensor_op_refuses_bad_step_counts():
    a = vt.zeros(3)
    args = ([a], [a], [a], [a], [])
    with pytest.raises(ValueError, match="expected one step count per parameter, got 0 steps for 1 params"):
        vt._C._ops._fused_adamw_capturable_(*args, [], 0.1, 0.9, 0.99, 0.0, 1e-8, True, False)
    with pytest.raises(RuntimeError, match=r"expected steps\[0\] to be a float32 tensor of one element"):
        vt._C._ops._fused_adamw_capturable_(*args, [vt.zeros(2)], 0.1, 0.9, 0.99, 0.0, 1e-8, True, False)
    with pytest.raises(RuntimeError, match=r"expected steps\[0\] to be a float32 tensor of one element"):
        vt._C._ops._fused_adamw_capturable_(*args, [vt.zeros((), dtype=vt.float64)], 0.1, 0.9, 0.99, 0.0, 1e-8,
                                            True, False)


def test_policies_a_capture_cannot_take_are_named():
    check_capturable_policies(vt.policy.presets()["tuned"])
    with pytest.raises(RuntimeError, match=r"cannot capture a step under autograd.workers=spawn \(backward then runs "
                                           r"on other threads.*expected autograd.workers=caller"):
        check_capturable_policies(vt.policy.presets()["vibe"])
    with pytest.raises(RuntimeError, match="scalars.cuda=device_copy"):
        check_capturable_policies({**vt.policy.presets()["tuned"], "scalars.cuda": "device_copy"})


@pytest.mark.skipif(vt.cuda.is_available(), reason="the error of a machine without a GPU")
def test_graphed_step_without_a_gpu_says_so():
    step = vt.cuda.graphed_step(lambda x: x * 2, warmup=0)
    with pytest.raises(RuntimeError, match="built without CUDA|no CUDA GPU is available"):
        step(vt.ones(2))


def test_replay_before_a_capture_is_refused():
    def train_step(x):
        return x * 2

    step = vt.cuda.graphed_step(train_step, warmup=2)
    with pytest.raises(RuntimeError, match="train_step has no captured graph to replay yet; expected a call after its 2"):
        step.replay()
    assert step.replays == 0


def test_runner_refuses_capture_off_cuda_and_keeps_eager_steps():
    opts = SMALL["seq_reverse"]
    with pytest.raises(ValueError, match="step.capture=graph captures CUDA work; the cell of seq_reverse runs on cpu"):
        runner.run_cell("seq_reverse", "vibetensor", "cpu", steps=1, warmup=1, policy={"step.capture": "graph"},
                        options=opts, probe_steps=0, gpu_steps=0)
    rec = runner.run_cell("seq_reverse", "vibetensor", "cpu", steps=2, warmup=1, policy={"step.capture": "eager"},
                          options=opts, probe_steps=0, gpu_steps=0)
    assert "capture" not in rec and rec["policy"]["step.capture"] == "eager" and len(rec["losses"]) == 3
    assert np.isfinite(rec["losses"]).all()


def test_runner_refuses_a_workload_without_train_step():
    class Host:
        pass

    with pytest.raises(ValueError, match="workload host_only has no train_step"):
        runner.capture_step(vt, Host(), "host_only", "cuda")


def test_schedulers_write_a_tensor_lr_in_place():
    """A tensor lr (capturable optimizers) keeps its identity through CosineAnnealingLR and
    ReduceLROnPlateau, takes the values a float lr takes, and its initial_lr is a copy, not an alias."""
    p = [vt.zeros(3, requires_grad=True)]
    lr_t = vt.full([], 0.1)
    opt_t = vt.optim.AdamW(p, lr=lr_t, capturable=True)
    opt_f = vt.optim.AdamW([vt.zeros(3, requires_grad=True)], lr=0.1)
    sched_t = vt.optim.lr_scheduler.CosineAnnealingLR(opt_t, T_max=4, eta_min=0.01)
    sched_f = vt.optim.lr_scheduler.CosineAnnealingLR(opt_f, T_max=4, eta_min=0.01)
    for _ in range(5):
        opt_t.step(), opt_f.step()
        sched_t.step(), sched_f.step()
        assert opt_t.param_groups[0]["lr"] is lr_t
        assert abs(lr_t.item() - opt_f.param_groups[0]["lr"]) < 1e-7
    assert abs(float(opt_t.param_groups[0]["initial_lr"]) - 0.1) < 1e-7  # float32
    plateau = vt.optim.lr_scheduler.ReduceLROnPlateau(opt_t, factor=0.5, patience=0)
    before = lr_t.item()
    plateau.step(1.0), plateau.step(2.0)
    assert opt_t.param_groups[0]["lr"] is lr_t and abs(lr_t.item() - before * 0.5) < 1e-7


def test_tensor_lr_needs_capturable():
    with pytest.raises(ValueError, match="capturable=True only"):
        vt.optim.AdamW([vt.zeros(2, requires_grad=True)], lr=vt.full([], 0.1))


def test_vit_capturable_trains_as_the_host_step_one(tmp_path):
    """vit_cifar with capturable=True (device step count, lr a tensor the schedule updates in place, the
    schedule outside train_step) gives the losses of the default optimizer."""
    opts = {"dim": 32, "depth": 1, "heads": 4, "mlp": 64, "batch": 16, "cls_tokens": 4, "synthetic_size": 200,
            "schedule_steps": 4, "augment": False}
    losses = {}
    for capturable in (False, True):
        wl = registry.build("vit_cifar", vt, "cpu", {**opts, "capturable": capturable})
        losses[capturable] = [wl.step(wl.next_batch()) for _ in range(5)]
        if capturable:
            assert hasattr(wl.opt.param_groups[0]["lr"], "fill_")
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-5)
