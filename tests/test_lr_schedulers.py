"""ExponentialLR, ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, SequentialLR
and ChainedScheduler against torch's own schedulers: the lr (and cycled momentum) of three parameter groups
step by step, to 1e-12; state_dict round trips that continue torch's sequence; fractional epochs; argument
errors.

(LambdaLR, StepLR, CosineAnnealingLR, ... are tested in test_optim.py.)"""
import warnings

import numpy as np
import pytest
import torch

import vibetensor as vt

GROUP_LRS = (0.1, 0.2, 0.3)


def _sched(lib):
    return lib.optim.lr_scheduler


def _optimizer(lib, kind="SGD"):
    params = [lib.nn.Parameter(lib.ones(1)) for _ in GROUP_LRS]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(lib.optim, kind)(groups, lr=0.1)


class _Halving:
    """A callable object: its __dict__ is what state_dict keeps of a lambda (torch's rule)."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor if epoch % 4 == 0 else 1.0


SCHEDULERS = {
    "exponential": lambda lib, opt: _sched(lib).ExponentialLR(opt, gamma=0.93),
    "constant": lambda lib, opt: _sched(lib).ConstantLR(opt, factor=0.25, total_iters=7),
    "constant_default": lambda lib, opt: _sched(lib).ConstantLR(opt),
    "multiplicative": lambda lib, opt: _sched(lib).MultiplicativeLR(opt, lambda e: 0.97 if e % 3 else 1.02),
    "multiplicative_per_group": lambda lib, opt: _sched(lib).MultiplicativeLR(
        opt, [lambda e: 0.9, _Halving(), lambda e: 1.0 + 0.01 * e]),
    "polynomial": lambda lib, opt: _sched(lib).PolynomialLR(opt, total_iters=17, power=2.5),
    "polynomial_default": lambda lib, opt: _sched(lib).PolynomialLR(opt),
    "warm_restarts": lambda lib, opt: _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=7),
    "warm_restarts_mult": lambda lib, opt: _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2,
                                                                                  eta_min=0.001),
    "cyclic": lambda lib, opt: _sched(lib).CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.2, 0.3], step_size_up=4,
                                                    step_size_down=6),
    "cyclic_triangular2": lambda lib, opt: _sched(lib).CyclicLR(opt, 0.01, 0.1, step_size_up=3,
                                                                mode="triangular2", base_momentum=[0.7, 0.8, 0.85]),
    "cyclic_exp_range": lambda lib, opt: _sched(lib).CyclicLR(opt, [0.01, 0.02, 0.03], 0.1, step_size_up=5,
                                                              mode="exp_range", gamma=0.97),
    "cyclic_scale_fn_iterations": lambda lib, opt: _sched(lib).CyclicLR(
        opt, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode="iterations",
        cycle_momentum=False),
    "sequential": lambda lib, opt: _sched(lib).SequentialLR(
        opt, [_sched(lib).LinearLR(opt, start_factor=0.1, total_iters=5), _sched(lib).ExponentialLR(opt, 0.9),
              _sched(lib).CosineAnnealingLR(opt, T_max=8)], milestones=[5, 15]),
    "sequential_lambda_then_warm_restarts": lambda lib, opt: _sched(lib).SequentialLR(
        opt, [_sched(lib).LambdaLR(opt, lambda e: (e + 1) / 4), _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=6)],
        milestones=[4]),
    "chained": lambda lib, opt: _sched(lib).ChainedScheduler(
        [_sched(lib).ConstantLR(opt, factor=0.1, total_iters=10), _sched(lib).ExponentialLR(opt, gamma=0.9)]),
    "chained_with_optimizer": lambda lib, opt: _sched(lib).ChainedScheduler(
        [_sched(lib).PolynomialLR(opt, total_iters=20), _sched(lib).MultiplicativeLR(opt, lambda e: 0.98)],
        optimizer=opt),
    "sequential_of_chained": lambda lib, opt: _sched(lib).SequentialLR(
        opt, [_sched(lib).ChainedScheduler([_sched(lib).ExponentialLR(opt, 0.95),
                                            _sched(lib).ConstantLR(opt, factor=0.5, total_iters=3)]),
              _sched(lib).ExponentialLR(opt, 0.9)],
        milestones=[6]),
}


def _record(opt, sched):
    """What a step leaves: get_last_lr() and each group's lr and momentum (cycled by CyclicLR)."""
    return (list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups]
            + [g["momentum"] if "momentum" in g else g["betas"][0] for g in opt.param_groups])


def _steps(opt, sched, steps):
    """The records of `steps` optimizer and scheduler steps."""
    seq = []
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(_record(opt, sched))
    return seq


def _run(lib, name, steps=60, kind="SGD"):
    opt = _optimizer(lib, kind)
    sched = SCHEDULERS[name](lib, opt)
    return [_record(opt, sched)] + _steps(opt, sched, steps), opt, sched


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about get_lr in get_last_lr's place in places; not the point
        mine, opt, _ = _run(vt, name)
        ref, topt, _ = _run(torch, name)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-15)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if n.startswith("cyclic") and "scale_fn" not in n])
@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_cyclic_cycles_beta1_of_adam_like_optimizers(name, kind):
    mine, opt, _ = _run(vt, name, steps=30, kind=kind)
    ref, topt, _ = _run(torch, name, steps=30, kind=kind)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([g["betas"] for g in opt.param_groups], [g["betas"] for g in topt.param_groups],
                               rtol=1e-12)
    assert [g["max_momentum"] for g in opt.param_groups] == [g["max_momentum"] for g in topt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip_continues_torchs_sequence(name):
    """Save the optimizer and the scheduler after 23 steps, build both again (the scheduler before loading the
    optimizer's state, as torch's docs ask) and load: the next 30 steps are torch's uninterrupted ones."""
    ref, _, _ = _run(torch, name, steps=53)
    _, opt, sched = _run(vt, name, steps=23)
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_sd
    opt2 = _optimizer(vt)
    sched2 = SCHEDULERS[name](vt, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    np.testing.assert_allclose(_steps(opt2, sched2, 30), ref[24:], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_has_torchs_keys_and_loads_torchs(name):
    """The same keys as torch's state_dict (torch has one more: its get_lr-within-step flag); a torch scheduler's
    state_dict loaded into a vibetensor one continues torch's sequence."""
    ref, _, _ = _run(torch, name, steps=40)
    topt = _optimizer(torch)
    tsched = SCHEDULERS[name](torch, topt)
    opt = _optimizer(vt)
    sched = SCHEDULERS[name](vt, opt)
    for _ in range(17):
        topt.step()
        tsched.step()
    tsd = tsched.state_dict()
    assert set(sched.state_dict()) == set(tsd) - {"_get_lr_called_within_step"}
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group.update({k: v for k, v in tgroup.items() if k != "params"})  # the optimizer's share of the state
    sched.load_state_dict(tsd)
    np.testing.assert_allclose(_steps(opt, sched, 23), ref[18:], rtol=1e-12, atol=1e-15)


def test_resume_with_last_epoch_matches_torch():
    """A scheduler built with last_epoch=k on an optimizer holding initial_lr continues from epoch k + 1."""
    for name, make in (("exponential", lambda lib, opt: _sched(lib).ExponentialLR(opt, 0.9, last_epoch=5)),
                       ("polynomial", lambda lib, opt: _sched(lib).PolynomialLR(opt, total_iters=12, last_epoch=3)),
                       ("warm_restarts", lambda lib, opt: _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=4,
                                                                                                  last_epoch=6)),
                       ("cyclic", lambda lib, opt: _sched(lib).CyclicLR(opt, 0.01, 0.1, step_size_up=3,
                                                                        last_epoch=4))):
        runs = []
        for lib in (vt, torch):
            opt = _optimizer(lib)
            for group in opt.param_groups:
                group["initial_lr"] = group["lr"]
                group["max_momentum"], group["base_momentum"] = 0.9, 0.8
            sched = make(lib, opt)
            runs.append([_record(opt, sched)] + _steps(opt, sched, 12))
        np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs_match_torch(T_mult):
    """step(epoch + i / iters) after every batch, then step(26) and plain steps from there, as torch's docs show."""
    runs = []
    for lib in (vt, torch):
        opt = _optimizer(lib)
        sched = _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=0.002)
        seq = []
        iters = 7
        for epoch in range(20):
            for i in range(iters):
                opt.step()
                sched.step(epoch + i / iters)
                seq.append(list(sched.get_last_lr()) + [sched.T_cur, sched.T_i, sched.last_epoch])
        sched.step(26)
        for _ in range(5):
            sched.step()
            seq.append(list(sched.get_last_lr()) + [sched.T_cur, sched.T_i, sched.last_epoch])
        runs.append(seq)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)


def test_closed_form_epochs_match_torch():
    """step(epoch) takes the closed form where a schedule has one (torch warns that the argument is deprecated)."""
    for make in (lambda lib, opt: _sched(lib).ExponentialLR(opt, 0.9),
                 lambda lib, opt: _sched(lib).ConstantLR(opt, factor=0.3, total_iters=4),
                 lambda lib, opt: _sched(lib).PolynomialLR(opt, total_iters=9, power=0.5)):
        runs = []
        for lib in (vt, torch):
            opt = _optimizer(lib)
            sched = make(lib, opt)
            seq = []
            for epoch in (3, 1, 7, 12, 4, 0):
                opt.step()
                with pytest.warns(UserWarning, match="deprecated"):
                    sched.step(epoch)
                seq.append(sched.get_last_lr())
            runs.append(seq)
        np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)


def test_cyclic_custom_scale_fn_object_state_round_trip():
    """A callable object as scale_fn: state_dict keeps its __dict__ (a function: None), load restores it."""

    class Decay:
        def __init__(self):
            self.rate = 0.9

        def __call__(self, x):
            return self.rate ** x

    opt = _optimizer(vt)
    fn = Decay()
    sched = vt.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, scale_fn=fn)
    fn.rate = 0.5
    sd = sched.state_dict()
    assert sd["_scale_fn_custom"] == {"rate": 0.5} and "_scale_fn_ref" not in sd
    fn2 = Decay()
    sched2 = vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1, step_size_up=2, scale_fn=fn2)
    sched2.load_state_dict(sd)
    assert fn2.rate == 0.5 and sched2.scale_fn(2) == 0.25
    sched3 = vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1, mode="exp_range", gamma=0.5)
    sd3 = sched3.state_dict()
    assert sd3["_scale_fn_custom"] is None
    sched4 = vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1)
    sched4.load_state_dict(sd3)  # the built-in scale function is made again from mode and gamma
    assert sched4.scale_fn(3) == 0.125 and sched4.scale_mode == "iterations"


def _both_raise(exc, make, match=None):
    """make(lib) raises exc in torch and in vibetensor; the message is torch's (or, with match, both match it)."""
    with pytest.raises(exc) as expected:
        make(torch)
    with pytest.raises(exc) as got:
        make(vt)
    if match is None:
        assert str(got.value) == str(expected.value)
    else:
        assert match in str(expected.value) and match in str(got.value), (str(expected.value), str(got.value))


@pytest.mark.parametrize("case", [
    ("T_0 zero", ValueError, lambda lib: _sched(lib).CosineAnnealingWarmRestarts(_optimizer(lib), T_0=0)),
    ("T_0 float", ValueError, lambda lib: _sched(lib).CosineAnnealingWarmRestarts(_optimizer(lib), T_0=2.5)),
    ("T_mult zero", ValueError, lambda lib: _sched(lib).CosineAnnealingWarmRestarts(_optimizer(lib), 5, T_mult=0)),
    ("T_mult float", ValueError, lambda lib: _sched(lib).CosineAnnealingWarmRestarts(_optimizer(lib), 5, T_mult=1.5)),
    ("eta_min str", ValueError, lambda lib: _sched(lib).CosineAnnealingWarmRestarts(_optimizer(lib), 5, eta_min="0")),
    ("constant factor", ValueError, lambda lib: _sched(lib).ConstantLR(_optimizer(lib), factor=1.5)),
    ("multiplicative count", ValueError,
     lambda lib: _sched(lib).MultiplicativeLR(_optimizer(lib), [lambda e: 1.0] * 2)),
    ("multiplicative not callable", TypeError, lambda lib: _sched(lib).MultiplicativeLR(_optimizer(lib), 0.9)),
    ("cyclic max_lr count", ValueError, lambda lib: _sched(lib).CyclicLR(_optimizer(lib), 0.01, [0.1, 0.2])),
    ("cyclic base_momentum count", ValueError,
     lambda lib: _sched(lib).CyclicLR(_optimizer(lib), 0.01, 0.1, base_momentum=[0.8])),
    ("cyclic no momentum", ValueError, lambda lib: _sched(lib).CyclicLR(_optimizer(lib, "Adagrad"), 0.01, 0.1)),
    ("cyclic not an optimizer", TypeError, lambda lib: _sched(lib).CyclicLR(object(), 0.01, 0.1)),
    ("sequential milestones", ValueError, lambda lib: (lambda opt: _sched(lib).SequentialLR(
        opt, [_sched(lib).ExponentialLR(opt, 0.9)], milestones=[3]))(_optimizer(lib))),
    ("sequential empty", ValueError, lambda lib: _sched(lib).SequentialLR(_optimizer(lib), [], milestones=[])),
    ("sequential other optimizer", ValueError, lambda lib: _sched(lib).SequentialLR(
        _optimizer(lib), [_sched(lib).ExponentialLR(_optimizer(lib), 0.9)], milestones=[])),
    ("sequential plateau", ValueError, lambda lib: (lambda opt: _sched(lib).SequentialLR(
        opt, [_sched(lib).ReduceLROnPlateau(opt)], milestones=[]))(_optimizer(lib))),
    ("sequential no optimizer", TypeError, lambda lib: _sched(lib).SequentialLR(_optimizer(lib), [object()], [])),
    ("chained empty", ValueError, lambda lib: _sched(lib).ChainedScheduler([])),
    ("chained two optimizers", ValueError, lambda lib: _sched(lib).ChainedScheduler(
        [_sched(lib).ExponentialLR(_optimizer(lib), 0.9), _sched(lib).ExponentialLR(_optimizer(lib), 0.9)])),
], ids=lambda case: case[0])
def test_argument_errors_are_torchs(case):
    _, exc, make = case
    if "other optimizer" in case[0] or "two optimizers" in case[0]:  # the message names the objects' reprs
        _both_raise(exc, make, match="expects all schedulers to belong to the same optimizer")
    else:
        _both_raise(exc, make)


def test_errors_that_name_what_was_expected():
    """Where torch's message does not say what was expected, vibetensor's starts with torch's and says it."""
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None: got mode 'cosine', expected "
                                         "'triangular', 'triangular2' or 'exp_range'"):
        vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1, mode="cosine")
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        torch.optim.lr_scheduler.CyclicLR(_optimizer(torch), 0.01, 0.1, mode="cosine")
    with pytest.raises(ValueError, match="expected step_size_up > 0 and step_size_down >= 0, got 0.0 and 0.0"):
        vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1, step_size_up=0)
    with pytest.raises(ValueError, match="scale_mode must be 'cycle' or 'iterations', got 'epoch'"):
        vt.optim.lr_scheduler.CyclicLR(_optimizer(vt), 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epoch")
    opt = _optimizer(vt)
    first, second = vt.optim.lr_scheduler.ConstantLR(opt), vt.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    with pytest.raises(ValueError, match=r"milestones must be in increasing order, got \[8, 3\]"):
        vt.optim.lr_scheduler.SequentialLR(opt, [first, second, second], milestones=[8, 3])
    sched = vt.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


def test_new_schedulers_are_exported():
    for name in ("ExponentialLR", "ConstantLR", "MultiplicativeLR", "PolynomialLR", "CosineAnnealingWarmRestarts",
                 "CyclicLR", "SequentialLR", "ChainedScheduler"):
        assert name in vt.optim.lr_scheduler.__all__
        assert issubclass(getattr(vt.optim.lr_scheduler, name), vt.optim.lr_scheduler.LRScheduler)
    assert set(vt.optim.lr_scheduler.__all__) <= set(torch.optim.lr_scheduler.__all__)
