"""Optimizers and lr schedulers against torch: 10-step trajectories from identical weights must
match to 1e-6, plus state_dict round trips, zero_grad and argument errors.

Two models: an elementwise one and a Linear/GELU/Linear MLP with an MSE loss."""

import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close

OPTIMIZERS = {
    "sgd": ({"lr": 0.1}, {}),
    "sgd_momentum": ({"lr": 0.05, "momentum": 0.9}, {}),
    "sgd_nesterov_wd": ({"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, {}),
    "sgd_dampening_maximize": ({"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}, {}),
    "adam": ({"lr": 0.01}, {}),
    "adam_wd_amsgrad": ({"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}, {}),
    "adamw": ({"lr": 0.01}, {}),
    "adamw_custom": ({"lr": 0.02, "betas": (0.85, 0.95), "weight_decay": 0.3}, {}),
    "rmsprop": ({"lr": 0.01}, {"mlp_tol": 2e-5}),
    "rmsprop_centered_momentum_wd": ({"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "centered": True,
                                      "weight_decay": 0.05}, {"mlp_tol": 2e-5}),
    "rmsprop_maximize": ({"lr": 0.005, "maximize": True, "eps": 1e-6}, {"mlp_tol": 2e-5}),
    "adagrad": ({"lr": 0.1}, {"mlp_tol": 2e-5}),
    "adagrad_decay_wd_accumulator": ({"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                                      "initial_accumulator_value": 0.5, "maximize": True}, {"mlp_tol": 2e-5}),
    "adadelta": ({"lr": 1.0}, {"mlp_tol": 2e-5}),
    "adadelta_rho_wd": ({"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1, "maximize": True}, {"mlp_tol": 2e-5}),
}


def _optimizer(lib, name, params):
    kwargs = dict(OPTIMIZERS[name][0])
    cls = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
           "adadelta": "Adadelta"}[name.split("_")[0]]
    if lib is torch:
        kwargs["foreach"] = False  # torch's single-tensor path: the reference formulas
    return getattr(lib.optim, cls)(params, **kwargs)


def _elementwise_step(lib, w, b, x, y):
    """loss = sum((w * x + b - y)^2) on today's kernels: backward with an explicit all-ones gradient."""
    err = w * x + b - y
    sq = err * err
    sq.backward(lib.ones_like(sq))
    return sq


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_trajectory_matches_torch_elementwise_model(rng, name):
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    b0 = rng.standard_normal((3, 4)).astype(np.float32)  # same shape as w: no broadcast (its grad needs sum)
    data = [(rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32))
            for _ in range(10)]
    results = {}
    for lib in (torch, vt):
        w = lib.nn.Parameter(lib.tensor(w0))
        b = lib.nn.Parameter(lib.tensor(b0))
        opt = _optimizer(lib, name, [w, b])
        for x, y in data:
            opt.zero_grad()
            _elementwise_step(lib, w, b, lib.tensor(x), lib.tensor(y))
            opt.step()
        results[lib] = (w, b)
    # 1e-6 (absolute + relative): torch's CPU kernels fuse a + alpha * b into one FMA, so the last
    # bit can differ for parameters of magnitude > 1.
    for mine, ref in zip(results[vt], results[torch]):
        assert_close(mine, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_trajectory_matches_torch_mlp(rng, name):
    torch.manual_seed(0)  # the initial weights
    tol = OPTIMIZERS[name][1].get("mlp_tol", 1e-6)  # adaptive steps amplify the frameworks' last-bit differences
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.GELU(), torch.nn.Linear(16, 2))
    m = vt.nn.Sequential(vt.nn.Linear(5, 16), vt.nn.GELU(), vt.nn.Linear(16, 2))
    m.load_state_dict(tm.state_dict())
    losses = {}
    for lib, model in ((torch, tm), (vt, m)):
        opt = _optimizer(lib, name, model.parameters())
        losses[lib] = []
        for _ in range(10):
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[vt], losses[torch], rtol=tol, atol=tol)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert_close(p, tp, rtol=tol, atol=tol)


def test_param_groups_and_defaults():
    a, b = vt.nn.Parameter(vt.ones(2)), vt.nn.Parameter(vt.ones(3))
    opt = vt.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [b]
    a.grad, b.grad = vt.ones(2), vt.ones(3)
    opt.step()
    assert_close(a, np.full(2, 0.9))
    assert_close(b, np.full(3, 0.5))
    assert "momentum_buffer" in opt.state[a]
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")


def test_zero_grad():
    p = vt.nn.Parameter(vt.ones(2))
    opt = vt.optim.Adam([p])
    p.grad = vt.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # parameters without gradients are skipped
    assert p.tolist() == [1.0, 1.0] and not opt.state[p]


def test_closure():
    p = vt.nn.Parameter(vt.tensor([2.0]))
    opt = vt.optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p)[0]
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.tolist() == [1.0]


def test_state_dict_round_trip_continues_identically(rng):
    w0 = rng.standard_normal(5).astype(np.float32)
    data = [(rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32))
            for _ in range(6)]

    def run(steps, opt, w, b):
        for x, y in steps:
            opt.zero_grad()
            _elementwise_step(vt, w, b, vt.tensor(x), vt.tensor(y))
            opt.step()

    w, b = vt.nn.Parameter(vt.tensor(w0)), vt.nn.Parameter(vt.zeros(5))
    opt = vt.optim.Adam([w, b], lr=0.05, amsgrad=True)
    run(data, opt, w, b)

    w2, b2 = vt.nn.Parameter(vt.tensor(w0)), vt.nn.Parameter(vt.zeros(5))
    opt2 = vt.optim.Adam([w2, b2], lr=0.05, amsgrad=True)
    run(data[:3], opt2, w2, b2)
    sd = opt2.state_dict()
    assert sorted(sd) == ["param_groups", "state"] and sd["param_groups"][0]["params"] == [0, 1]
    assert sd["state"][0]["step"].item() == 3.0 and sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq",
                                                                                "max_exp_avg_sq", "step"]
    w3, b3 = vt.nn.Parameter(w2.detach().clone()), vt.nn.Parameter(b2.detach().clone())
    opt3 = vt.optim.Adam([w3, b3], lr=0.5)
    opt3.load_state_dict(sd)
    assert opt3.param_groups[0]["lr"] == 0.05 and opt3.param_groups[0]["params"] == [w3, b3]
    assert opt3.state[w3]["exp_avg"]._storage_id() != opt2.state[w2]["exp_avg"]._storage_id()
    run(data[3:], opt3, w3, b3)
    assert_close(w3, w.detach().numpy(), rtol=0, atol=0)
    assert_close(b3, b.detach().numpy(), rtol=0, atol=0)


def test_state_dict_layout_matches_torch():
    tp = torch.nn.Parameter(torch.ones(2))
    p = vt.nn.Parameter(vt.ones(2))
    topt, opt = torch.optim.AdamW([tp], foreach=False), vt.optim.AdamW([p])
    tp.grad, p.grad = torch.ones(2), vt.ones(2)
    topt.step()
    opt.step()
    tsd, sd = topt.state_dict(), opt.state_dict()
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
        assert sd["param_groups"][0][key] == tsd["param_groups"][0][key], key


def test_load_state_dict_errors():
    p = vt.nn.Parameter(vt.ones(2))
    opt = vt.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="2 parameters; the optimizer's group has 1"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})


def test_optimizer_argument_errors():
    p = vt.nn.Parameter(vt.ones(2))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        vt.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        vt.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        vt.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        vt.optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        vt.optim.Adam(p)
    with pytest.raises(ValueError, match="non-leaf"):
        vt.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        vt.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


# --- lr schedulers --------------------------------------------------------------------------

def _lrs(lib, make_sched, steps=25, groups=2):
    params = [lib.nn.Parameter(lib.ones(1)) for _ in range(groups)]
    opt = lib.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], lr=0.1)
    sched = make_sched(lib, opt)
    lrs = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs, sched, opt


SCHEDULERS = {
    "lambda": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.95 ** e),
    "lambda_per_group": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1),
                                                                                lambda e: min(1.0, (e + 1) / 5)]),
    "cosine": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10),
    "cosine_eta_min": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    "step": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
    "multistep": lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 8, 8, 20], gamma=0.3),
    "linear": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10),
    "linear_down": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.2,
                                                                     total_iters=7),
    "onecycle": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 1.0], total_steps=30),
    "onecycle_linear_three_phase": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.3, epochs=3, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear", three_phase=True),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    mine, _, opt = _lrs(vt, SCHEDULERS[name])
    ref, _, topt = _lrs(torch, SCHEDULERS[name])
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups], rel=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]


def test_scheduler_state_dict_and_resume():
    lrs, sched, opt = _lrs(vt, SCHEDULERS["cosine"], steps=4)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    p = vt.nn.Parameter(vt.ones(1))
    opt2 = vt.optim.SGD([p], lr=0.1)
    sched2 = vt.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(sd)
    assert sched2.last_epoch == 4
    lam = vt.optim.lr_scheduler.LambdaLR(opt2, lambda e: 1.0)
    assert lam.state_dict()["lr_lambdas"] == [None]


def test_scheduler_errors_and_warnings():
    p = vt.nn.Parameter(vt.ones(1))
    opt = vt.optim.SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        vt.optim.lr_scheduler.LambdaLR(object(), lambda e: 1.0)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        vt.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    sched = vt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.raises(KeyError, match="initial_lr"):
        vt.optim.lr_scheduler.CosineAnnealingLR(vt.optim.SGD([p], lr=0.1), T_max=5, last_epoch=3)


def test_onecycle_cycles_momentum_and_adams_beta1():
    for lib_opt in ("SGD", "Adam"):
        got, ref = [], []
        for lib, out in ((vt, got), (torch, ref)):
            p = lib.nn.Parameter(lib.ones(1))
            kw = {"momentum": 0.9} if lib_opt == "SGD" else {}
            opt = getattr(lib.optim, lib_opt)([p], lr=0.1, **kw)
            sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=12)
            for _ in range(12):
                opt.step()
                sched.step() if sched.last_epoch < 11 else None
                g = opt.param_groups[0]
                out.append((g["lr"], g["momentum"] if lib_opt == "SGD" else g["betas"][0]))
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
    for kw in ({"patience": 2}, {"mode": "max", "factor": 0.5, "patience": 1, "cooldown": 2, "min_lr": 0.02},
               {"threshold_mode": "abs", "threshold": 0.06, "patience": 0}):
        runs = []
        for lib in (vt, torch):
            opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            lrs = []
            for m in metrics:
                opt.step()
                sched.step(m)
                lrs.append(sched.get_last_lr()[0])
            runs.append((lrs, sched.num_bad_epochs, sched.best))
        assert runs[0] == runs[1], kw
    opt = vt.optim.SGD([vt.nn.Parameter(vt.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        vt.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        vt.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="avg")


def test_new_optimizer_and_scheduler_errors_are_torchs():
    cases = [("RMSprop", {"lr": -1}), ("RMSprop", {"alpha": -0.1}), ("RMSprop", {"momentum": -1}),
             ("Adagrad", {"lr_decay": -1}), ("Adagrad", {"initial_accumulator_value": -1}), ("Adagrad", {"eps": -1}),
             ("Adadelta", {"rho": 1.5}), ("Adadelta", {"weight_decay": -1})]
    for cls, kw in cases:
        with pytest.raises(ValueError) as expected:
            getattr(torch.optim, cls)([torch.nn.Parameter(torch.ones(1))], **kw)
        with pytest.raises(ValueError) as got:
            getattr(vt.optim, cls)([vt.nn.Parameter(vt.ones(1))], **kw)
        assert str(got.value) == str(expected.value), (cls, kw)
    sched_cases = [("LinearLR", {"start_factor": 0}), ("LinearLR", {"end_factor": 2.0}),
                   ("OneCycleLR", {"max_lr": 0.1}), ("OneCycleLR", {"max_lr": 0.1, "total_steps": 0}),
                   ("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "anneal_strategy": "step"}),
                   ("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "pct_start": 1.5})]
    for cls, kw in sched_cases:
        with pytest.raises(ValueError) as expected:
            getattr(torch.optim.lr_scheduler, cls)(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1), **kw)
        with pytest.raises(ValueError) as got:
            getattr(vt.optim.lr_scheduler, cls)(vt.optim.SGD([vt.nn.Parameter(vt.ones(1))], lr=0.1), **kw)
        assert str(got.value) == str(expected.value), (cls, kw)
    opt = vt.optim.SGD([vt.nn.Parameter(vt.ones(1))], lr=0.1)
    sched = vt.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    opt.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        sched.step()


@pytest.mark.parametrize("make", [
    lambda p: vt.optim.SGD(p, lr=0.1, differentiable=True),
    lambda p: vt.optim.RMSprop(p, capturable=True),
    lambda p: vt.optim.RMSprop(p, differentiable=True),
    lambda p: vt.optim.Adagrad(p, differentiable=True),
    lambda p: vt.optim.Adadelta(p, capturable=True),
    lambda p: vt.optim.Adadelta(p, differentiable=True),
    lambda p: vt.optim.Adam(p, differentiable=True),
    lambda p: vt.optim.AdamW(p, differentiable=True),
], ids=["sgd_diff", "rmsprop_cap", "rmsprop_diff", "adagrad_diff", "adadelta_cap", "adadelta_diff", "adam_diff",
        "adamw_diff"])
def test_flags_a_step_cannot_honour_are_refused_not_ignored(make):
    with pytest.raises(NotImplementedError, match=r"\((capturable|differentiable)=True\) is not supported by vibetensor"):
        make([vt.zeros(2, requires_grad=True)])
