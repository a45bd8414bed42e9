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
}


def _optimizer(lib, name, params):
    kwargs = dict(OPTIMIZERS[name][0])
    cls = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[name.split("_")[0]]
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
    np.testing.assert_allclose(losses[vt], losses[torch], rtol=1e-6, atol=1e-6)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert_close(p, tp, rtol=1e-6, atol=1e-6)


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
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    mine, _, opt = _lrs(vt, SCHEDULERS[name])
    ref, _, topt = _lrs(torch, SCHEDULERS[name])
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups], rel=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]


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
