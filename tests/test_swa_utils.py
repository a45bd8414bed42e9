"""vibetensor.optim.swa_utils against torch.optim.swa_utils, from the same weights: AveragedModel over several
updates (SWA by default, EMA by multi_avg_fn and by avg_fn, a custom avg_fn, with and without use_buffers), its
state dict (n_averaged, the module. prefix) both ways; SWALR's learning rates exactly; update_bn's statistics;
torch's errors."""
import math

import pytest
import torch
import torch.optim.swa_utils as tswa

import vibetensor as vt
import vibetensor.optim.swa_utils as vswa

from harness import assert_close, randn, to_torch, to_vt

TOL = dict(rtol=1e-5, atol=1e-6)


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))


def _twins():
    torch.manual_seed(0)
    tm = _model(torch)
    vm = _model(vt)
    vm.load_state_dict({k: to_vt(v) for k, v in tm.state_dict().items()})
    return tm, vm


def _new_weights(tm, vm, step):
    """Moves both models to the same new weights and running statistics (a training forward through BN)."""
    with torch.no_grad():
        for i, p in enumerate(tm.parameters()):
            p.add_(randn(tuple(p.shape), seed=100 * step + i, scale=0.3))
    vm.load_state_dict({k: to_vt(v) for k, v in tm.state_dict().items() if "running" not in k and "num_b" not in k},
                       strict=False)
    x = randn((8, 4), seed=1000 + step)
    tm.train()
    vm.train()
    tm(x)
    vm(to_vt(x))


def _assert_same_state(vt_module, torch_module):
    ts = torch_module.state_dict()
    vs = dict(vt_module.state_dict())
    assert list(vs) == list(ts)
    for k, v in ts.items():
        if v.dtype.is_floating_point:
            assert_close(vs[k], v, **TOL)
        else:
            assert vs[k].tolist() == v.tolist(), k


AVERAGING = {
    "swa": lambda lib: {},
    "ema_multi": lambda lib: dict(multi_avg_fn=lib.get_ema_multi_avg_fn(0.9)),
    "ema": lambda lib: dict(avg_fn=lib.get_ema_avg_fn(0.8)),
    "swa_fn": lambda lib: dict(avg_fn=lib.get_swa_avg_fn()),
    "swa_multi": lambda lib: dict(multi_avg_fn=lib.get_swa_multi_avg_fn()),
    "custom": lambda lib: dict(avg_fn=lambda avg, cur, n: 0.25 * avg + 0.75 * cur),
}


@pytest.mark.parametrize("averaging", list(AVERAGING))
@pytest.mark.parametrize("use_buffers", [False, True])
def test_averaged_model_matches_torch(averaging, use_buffers):
    tm, vm = _twins()
    ta = tswa.AveragedModel(tm, use_buffers=use_buffers, **AVERAGING[averaging](tswa))
    va = vswa.AveragedModel(vm, use_buffers=use_buffers, **AVERAGING[averaging](vswa))
    assert va.module is not vm and va.module[0].weight is not vm[0].weight  # a copy
    for step in range(5):
        _new_weights(tm, vm, step)
        if averaging == "swa_multi" and use_buffers and step == 1:  # an integer buffer (num_batches_tracked)
            with pytest.raises(RuntimeError, match="addcdiv is no longer supported"):
                ta.update_parameters(tm)
            with pytest.raises(RuntimeError, match="addcdiv is no longer supported"):
                va.update_parameters(vm)
            return
        ta.update_parameters(tm)
        va.update_parameters(vm)
        _assert_same_state(va, ta)
    assert va.n_averaged.item() == 5 and va.n_averaged.dtype == vt.int64
    x = randn((3, 4), seed=7)
    ta.eval()
    va.eval()
    assert_close(va(to_vt(x)), ta(x).detach(), **TOL)


def test_first_update_copies_and_the_average_is_the_mean():
    _, vm = _twins()
    va = vswa.AveragedModel(vm, device="cpu")
    assert va.n_averaged.device == va.module[0].weight.device == vt.device("cpu")
    seen = []
    for step in range(4):
        with vt.no_grad():
            vm[0].weight.copy_(to_vt(randn((5, 4), seed=step)))
        seen.append(vm[0].weight.detach().clone())
        va.update_parameters(vm)
        if step == 0:
            assert vt.equal(va.module[0].weight, seen[0])
    mean = sum(to_torch(w) for w in seen) / len(seen)
    assert_close(va.module[0].weight, mean, **TOL)
    assert not va.module[0].weight.grad_fn and va.module[0].weight.requires_grad  # still a parameter, no history


def test_state_dict_round_trips_with_torch():
    tm, vm = _twins()
    ta, va = tswa.AveragedModel(tm), vswa.AveragedModel(vm)
    for step in range(2):
        _new_weights(tm, vm, step)
        ta.update_parameters(tm)
        va.update_parameters(vm)
    keys = list(dict(va.state_dict()))
    assert keys[0] == "n_averaged" and all(k.startswith("module.") for k in keys[1:])
    assert keys == list(ta.state_dict())
    # torch's averaged state loads into a fresh vibetensor one (and back)
    fresh = vswa.AveragedModel(_model(vt))
    fresh.load_state_dict({k: to_vt(v) for k, v in ta.state_dict().items()})
    assert fresh.n_averaged.item() == 2
    _assert_same_state(fresh, ta)
    back = tswa.AveragedModel(_model(torch))
    back.load_state_dict({k: to_torch(v) for k, v in va.state_dict().items()})
    _assert_same_state(va, back)


def _lr_sequence(lib, make_scheduler, steps=14):
    params = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))]
    opt = lib.optim.SGD([{"params": [params[0]], "lr": 0.5}, {"params": [params[1]], "lr": 0.2}], lr=0.1)
    sched = make_scheduler(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs, sched


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3, 10])
@pytest.mark.parametrize("swa_lr", [0.05, [0.05, 0.01]])
def test_swalr_learning_rates_equal_torch(strategy, anneal_epochs, swa_lr):
    def make(lib):
        return lambda opt: lib.optim.swa_utils.SWALR(opt, swa_lr, anneal_epochs=anneal_epochs,
                                                     anneal_strategy=strategy)

    ours, sched = _lr_sequence(vt, make(vt))
    ref, tsched = _lr_sequence(torch, make(torch))
    assert ours == ref  # exactly: the same float operations in the same order
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert set(sched.state_dict()) == set(tsched.state_dict()) - {"_get_lr_called_within_step"}


def test_swalr_after_another_schedule_and_state_dict():
    def run(lib):
        p = lib.nn.Parameter(lib.zeros(2))
        opt = lib.optim.SGD([p], lr=1.0)
        first = lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.9)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=4, anneal_strategy="linear")
        lrs = []
        for epoch in range(12):
            opt.step()
            (swa if epoch >= 5 else first).step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs, swa

    ours, swa = run(vt)
    ref, _ = run(torch)
    assert ours == ref
    state = swa.state_dict()
    assert "anneal_func" not in state and "optimizer" not in state and state["_anneal_strategy"] == "linear"
    other = vt.optim.swa_utils.SWALR(vt.optim.SGD([vt.nn.Parameter(vt.zeros(1))], lr=1.0), swa_lr=0.1)
    other.load_state_dict(state)
    assert other.anneal_func is vswa.SWALR._linear_anneal and other.anneal_epochs == 4


def test_update_bn_matches_torch():
    tm, vm = _twins()
    data = [randn((6, 4), seed=20 + i) for i in range(4)]
    tm.eval()
    vm.eval()
    tswa.update_bn([(x, 0) for x in data], tm)
    vswa.update_bn([(to_vt(x), 0) for x in data], vm)
    for name in ("running_mean", "running_var"):
        assert_close(getattr(vm[1], name), getattr(tm[1], name), **TOL)
    assert vm[1].num_batches_tracked.item() == tm[1].num_batches_tracked.item() == 4
    assert vm[1].momentum == 0.1 and not vm.training  # momentum and mode restored
    # plain tensors as batches; the statistics are the mean over the batches, whatever came before
    vswa.update_bn([to_vt(x) for x in data], vm, device="cpu")
    assert_close(vm[1].running_mean, tm[1].running_mean, **TOL)
    # a model without BatchNorm is left alone (and the loader not even read)
    vswa.update_bn(iter(()), vt.nn.Linear(2, 2))


def test_errors_are_torch():
    _, vm = _twins()
    for lib, model in ((tswa, _model(torch)), (vswa, vm)):
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
            lib.AveragedModel(model, avg_fn=lib.get_swa_avg_fn(), multi_avg_fn=lib.get_ema_multi_avg_fn())
        for make in (lib.get_ema_avg_fn, lib.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
                make(1.5)
    opts = {lib: lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1) for lib in (torch, vt)}
    for kwargs in (dict(swa_lr=0.1, anneal_strategy="exp"), dict(swa_lr=0.1, anneal_epochs=-1),
                   dict(swa_lr=0.1, anneal_epochs=2.5), dict(swa_lr=[0.1, 0.2])):
        with pytest.raises(ValueError) as ref:
            torch.optim.swa_utils.SWALR(opts[torch], **kwargs)
        with pytest.raises(ValueError) as ours:
            vt.optim.swa_utils.SWALR(opts[vt], **kwargs)
        assert str(ours.value) == str(ref.value)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        vswa.SWALR("sgd", swa_lr=0.1)
    va = vswa.AveragedModel(vm)
    with pytest.raises(ValueError, match="expected a model of the structure it was built from"):
        va.update_parameters(vt.nn.Linear(4, 5))
    with pytest.raises(TypeError, match="model must be a vibetensor.nn.Module"):
        vswa.AveragedModel(lambda x: x)


def test_torch_alias_finds_the_module():
    from vibetensor.compat.alias_map import alias_map

    assert alias_map()["torch.optim.swa_utils"] == "vibetensor.optim.swa_utils"
    assert set(vswa.__all__) == set(tswa.__all__)
    assert math.isclose(vswa.SWALR._cosine_anneal(0.5), 0.5)
