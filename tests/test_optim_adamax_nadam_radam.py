"""Adamax, NAdam and RAdam against torch's single-tensor updates: 25-step trajectories of two parameter groups
from identical weights and gradients (float64 to 1e-12, float32 to 1e-6), an MLP trained through autograd,
state_dict layout and round trips (ours and torch's) that continue identically, argument errors."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close

CONFIGS = {
    "adamax": ("Adamax", {}),
    "adamax_wd_maximize_betas": ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1,
                                            "maximize": True}),
    "nadam": ("NAdam", {}),
    "nadam_wd_momentum_decay": ("NAdam", {"lr": 0.01, "weight_decay": 0.05, "momentum_decay": 0.01}),
    "nadam_decoupled_maximize": ("NAdam", {"lr": 0.01, "betas": (0.85, 0.95), "weight_decay": 0.1,
                                           "decoupled_weight_decay": True, "maximize": True}),
    "radam": ("RAdam", {}),
    "radam_wd": ("RAdam", {"lr": 0.01, "weight_decay": 0.05, "eps": 1e-6}),
    # beta2 = 0.9: rho_t passes 5 at step 6, so both branches of the update (rectified or not) run
    "radam_decoupled_maximize_short_sma": ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.1,
                                                     "decoupled_weight_decay": True, "maximize": True}),
}

DTYPES = {"float64": (torch.float64, vt.float64, 1e-12), "float32": (torch.float32, vt.float32, 1e-6)}


def _optimizer(lib, name, params):
    cls, kwargs = CONFIGS[name]
    kwargs = dict(kwargs)
    if lib is torch:
        kwargs["foreach"] = False  # torch's single-tensor path: the reference formulas
    return getattr(lib.optim, cls)(params, **kwargs)


def _problem(rng, steps):
    """Initial weights (a matrix, a vector, one more matrix) and per-step gradients; the last parameter has no
    gradient on every third step (a step skips it)."""
    shapes = [(4, 5), (5,), (3, 2)]
    weights = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) if not (i == 2 and k % 3 == 0) else None for i, s in enumerate(shapes)]
             for k in range(steps)]
    return weights, grads


def _groups(lib, params):
    """Two parameter groups, the second with its own lr (and no weight decay where the config has one)."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.003, "weight_decay": 0.0}]


def _run(lib, name, weights, grads, dtype, opt_sd=None):
    params = [lib.nn.Parameter(lib.tensor(w, dtype=dtype)) for w in weights]
    opt = _optimizer(lib, name, _groups(lib, params))
    if opt_sd is not None:
        opt.load_state_dict(opt_sd)
    _apply(lib, opt, params, grads, dtype)
    return params, opt


def _apply(lib, opt, params, grads, dtype):
    for step_grads in grads:
        opt.zero_grad()
        for p, g in zip(params, step_grads):
            if g is not None:
                p.grad = lib.tensor(g, dtype=dtype)
        opt.step()


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(CONFIGS))
def test_trajectory_matches_torch(rng, name, dtype):
    tdtype, vdtype, tol = DTYPES[dtype]
    weights, grads = _problem(rng, 25)
    mine, _ = _run(vt, name, weights, grads, vdtype)
    ref, _ = _run(torch, name, weights, grads, tdtype)
    for p, tp in zip(mine, ref):
        assert p.dtype == vdtype
        assert_close(p, tp, rtol=tol, atol=tol)
    # the trajectory moved the weights (a step that did nothing would pass the comparison above too)
    assert not np.allclose(mine[0].detach().numpy(), weights[0], atol=1e-3)


def _train(lib, model, opt, x, y, steps=15):
    """Losses of `steps` full-batch MSE steps through autograd."""
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", list(CONFIGS))
def test_mlp_trajectory_matches_torch(rng, name):
    torch.manual_seed(0)  # the initial weights
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    m = vt.nn.Sequential(vt.nn.Linear(5, 16), vt.nn.Tanh(), vt.nn.Linear(16, 2))
    m.load_state_dict(tm.state_dict())
    ref = _train(torch, tm, _optimizer(torch, name, tm.parameters()), x, y)
    mine = _train(vt, m, _optimizer(vt, name, m.parameters()), x, y)
    # adaptive steps amplify the frameworks' last-bit differences in the forward and backward
    np.testing.assert_allclose(mine, ref, rtol=2e-5, atol=2e-5)
    assert abs(ref[-1] - ref[0]) > 1e-3  # the steps moved the loss (up with maximize=True)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert_close(p, tp, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_layout_matches_torch(rng, name):
    weights, grads = _problem(rng, 2)
    _, opt = _run(vt, name, weights, grads, vt.float32)
    _, topt = _run(torch, name, weights, grads, torch.float32)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2]
    for i in sd["state"]:
        assert sorted(sd["state"][i]) == sorted(tsd["state"][i])
        for key, value in sd["state"][i].items():
            assert tuple(value.shape) == tuple(tsd["state"][i][key].shape), key
            assert str(value.dtype).split(".")[-1] == str(tsd["state"][i][key].dtype).split(".")[-1], key
            assert_close(value, tsd["state"][i][key], rtol=1e-6, atol=1e-7)
    for group, tgroup in zip(sd["param_groups"], tsd["param_groups"]):
        assert sorted(group) == sorted(tgroup)
        assert group["foreach"] is None  # torch's was given foreach=False
        assert {k: v for k, v in group.items() if k != "foreach"} == {k: v for k, v in tgroup.items() if k != "foreach"}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_round_trip_continues_identically(rng, name, dtype):
    """Save after 12 steps, load into an optimizer of fresh parameters holding the saved weights, 13 more steps:
    torch's same round trip gives the same weights (a loaded NAdam keeps mu_product in the parameters' dtype,
    as torch's load does)."""
    tdtype, vdtype, tol = DTYPES[dtype]
    weights, grads = _problem(rng, 25)
    results = {}
    for lib, d in ((vt, vdtype), (torch, tdtype)):
        params, opt = _run(lib, name, weights, grads[:12], d)
        sd = opt.state_dict()
        saved = [p.detach().numpy().copy() for p in params]
        resumed, opt2 = _run(lib, name, saved, [], d, opt_sd=sd)
        assert opt2.state_dict()["param_groups"] == sd["param_groups"]
        _apply(lib, opt2, resumed, grads[12:], d)
        results[lib] = resumed
    for p, tp in zip(results[vt], results[torch]):
        assert_close(p, tp, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loads_torchs_state_dict(rng, name):
    """A torch optimizer's state_dict (its tensors turned into vibetensor's) loaded midway: the next steps are
    torch's."""
    weights, grads = _problem(rng, 20)
    tparams, topt = _run(torch, name, weights, grads[:8], torch.float64)
    tsd = topt.state_dict()
    sd = {"state": {i: {k: vt.tensor(v.numpy()) for k, v in s.items()} for i, s in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    params = [vt.nn.Parameter(vt.tensor(p.detach().numpy())) for p in tparams]
    opt = _optimizer(vt, name, _groups(vt, params))
    opt.load_state_dict(sd)
    _apply(vt, opt, params, grads[8:], vt.float64)
    _apply(torch, topt, tparams, grads[8:], torch.float64)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, rtol=1e-12, atol=1e-12)


def test_cyclic_lr_cycles_beta1_of_nadam_like_torch(rng):
    weights, grads = _problem(rng, 16)
    results = {}
    for lib in (vt, torch):
        params = [lib.nn.Parameter(lib.tensor(w)) for w in weights]
        opt = _optimizer(lib, "nadam_wd_momentum_decay", _groups(lib, params))
        sched = lib.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.02, step_size_up=3)
        betas = []
        for step_grads in grads:
            _apply(lib, opt, params, [step_grads], lib.float64)
            sched.step()
            betas.append([g["betas"][0] for g in opt.param_groups])
        results[lib] = (params, betas)
    np.testing.assert_allclose(results[vt][1], results[torch][1], rtol=1e-12)
    for p, tp in zip(results[vt][0], results[torch][0]):
        assert_close(p, tp, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", ["Adamax", "NAdam", "RAdam"])
@pytest.mark.parametrize("kwargs", [{"lr": -1e-3}, {"eps": -1.0}, {"betas": (1.0, 0.9)}, {"betas": (0.9, -0.1)},
                                    {"weight_decay": -0.5}], ids=lambda kw: next(iter(kw)) + str(next(iter(kw.values()))))
def test_argument_errors_are_torchs(cls, kwargs):
    with pytest.raises(ValueError) as expected:
        getattr(torch.optim, cls)([torch.nn.Parameter(torch.ones(2))], **kwargs)
    with pytest.raises(ValueError) as got:
        getattr(vt.optim, cls)([vt.nn.Parameter(vt.ones(2))], **kwargs)
    assert str(got.value) == str(expected.value)


def test_errors_of_unsupported_arguments():
    p = vt.nn.Parameter(vt.ones(2))
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -0.1"):
        vt.optim.NAdam([p], momentum_decay=-0.1)
    with pytest.raises(ValueError, match=r"betas must be a pair \(beta1, beta2\), got \(0.9, 0.99, 0.999\)"):
        vt.optim.RAdam([p], betas=(0.9, 0.99, 0.999))
    with pytest.raises(ValueError, match="Adamax: lr as a Tensor is not supported by vibetensor; pass a number"):
        vt.optim.Adamax([p], lr=vt.tensor(0.01))
    with pytest.raises(NotImplementedError, match=r"NAdam\(capturable=True\) is not supported by vibetensor"):
        vt.optim.NAdam([p], capturable=True)
    with pytest.raises(NotImplementedError, match=r"RAdam\(differentiable=True\) is not supported by vibetensor"):
        vt.optim.RAdam([p], differentiable=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        vt.optim.Adamax([])


def test_defaults_and_parameters_without_gradient():
    p, q = vt.nn.Parameter(vt.ones(2)), vt.nn.Parameter(vt.ones(3))
    for cls, lr in (("Adamax", 2e-3), ("NAdam", 2e-3), ("RAdam", 1e-3)):
        opt = getattr(vt.optim, cls)([p, q])
        topt = getattr(torch.optim, cls)([torch.nn.Parameter(torch.ones(1))])
        assert opt.defaults == topt.defaults and opt.param_groups[0]["lr"] == lr
        p.grad = vt.ones(2)
        opt.step()
        assert not opt.state[q] and q.tolist() == [1.0, 1.0, 1.0] and p.tolist() != [1.0, 1.0]
        p.grad = None
    assert vt.optim.NAdam in (vt.optim.__dict__[n] for n in vt.optim.__all__)
