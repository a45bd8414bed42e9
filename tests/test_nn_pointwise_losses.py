"""F.l1_loss, F.smooth_l1_loss, F.huber_loss and F.kl_div (and L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss)
against torch on every device: every reduction, gradients of input and target, float32 and float64, strided
inputs, broadcast targets (with torch's warning), weights, the legacy size_average / reduce pair, the
branch edges (|d| == beta, delta), zero targets in kl_div, and the errors."""
import warnings

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt

F = vt.nn.functional
TF = torch.nn.functional
DTYPES = [torch.float32, torch.float64]
REDUCTIONS = ["mean", "sum", "none"]

# (function, keyword arguments)
CASES = [("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
         ("huber_loss", {}), ("huber_loss", {"delta": 2.5}), ("mse_loss", {})]


def case_id(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def pair(shape, dtype, seed=0):
    """input, target: random, with differences of exactly 0, +-0.5, +-1 and +-2.5 (the branch edges)."""
    x, t = randn(shape, dtype, seed=seed, scale=2.0), randn(shape, dtype, seed=seed + 1, scale=2.0)
    edges = torch.tensor([0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5], dtype=dtype)
    x.view(-1)[:edges.numel()] = t.view(-1)[:edges.numel()] + edges
    return x.requires_grad_(), t.requires_grad_()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch(device, case, reduction, dtype):
    name, kw = case
    x, t = pair((4, 5), dtype)
    check_op(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
             lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw), [x, t], device)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_strided_inputs(device, case):
    name, kw = case
    x, t = pair((5, 3), torch.float32, seed=4)
    vts = [to_vt(x.detach().t().contiguous(), device).transpose(0, 1), to_vt(t.detach(), device)[:, :]]
    check_op(lambda a, b: getattr(F, name)(a, b, **kw), lambda a, b: getattr(TF, name)(a, b, **kw), [x, t], device,
             vt_inputs=vts)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_broadcast_target_warns_like_torch(device, case):
    name, kw = case
    x, t = randn((4, 5), seed=1).requires_grad_(), randn((5,), seed=2).requires_grad_()
    with pytest.warns(UserWarning, match=r"Using a target size \(\(5,\)\) that is different to the input size "
                                         r"\(\(4, 5\)\)"):
        check_op(lambda a, b: getattr(F, name)(a, b, reduction="none", **kw),
                 lambda a, b: getattr(TF, name)(a, b, reduction="none", **kw), [x, t], device)
    with pytest.raises(RuntimeError, match="cannot be broadcast"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(F, name)(to_vt(x.detach(), device), to_vt(randn((3,)), device), **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "huber_loss"])
def test_weight(device, name, reduction):
    x, t = pair((3, 4), torch.float64)
    w = rand((3, 4), torch.float64, lo=0.1, hi=2.0, seed=5).requires_grad_()
    check_op(lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c),
             lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c), [x, t, w], device)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(to_vt(x.detach(), device), to_vt(t.detach(), device), weight=vt.ones(4, device=device))


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True), (False, True)], ids=str)
def test_legacy_size_average_and_reduce(device, size_average, reduce):
    x, t = pair((3, 4), torch.float32)
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss"):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            check_op(lambda a, b: getattr(F, name)(a, b, size_average, reduce),
                     lambda a, b: getattr(TF, name)(a, b, size_average, reduce), [x, t], device)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        check_op(lambda a, b: vt.nn.SmoothL1Loss(size_average, reduce, beta=0.5)(a, b),
                 lambda a, b: torch.nn.SmoothL1Loss(size_average, reduce, beta=0.5)(a, b), [x, t], device)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        check_op(lambda a, b: vt.nn.MSELoss(size_average, reduce)(a, b),
                 lambda a, b: torch.nn.MSELoss(size_average, reduce)(a, b), [x, t], device)


def kl_inputs(shape, dtype, seed=0, zeros=True):
    """log-probabilities and probabilities over the last dim, with some target entries exactly 0."""
    x = torch.log_softmax(randn(shape, dtype, seed=seed), -1)
    t = torch.softmax(randn(shape, dtype, seed=seed + 1, scale=2.0), -1)
    if zeros:
        t[..., 0] = 0.0
    return x.requires_grad_(), t


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(device, reduction, log_target, dtype):
    x, t = kl_inputs((4, 6), dtype)
    if log_target:
        t = t.clamp_min(1e-3).log()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reduction='mean''s warning, tested below
        check_op(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                 lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t], device)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_target_gradient(device, log_target):
    """The target's gradient too (positive targets: torch's xlogy gives nan at 0)."""
    x, t = kl_inputs((3, 5), torch.float64, seed=7, zeros=False)
    t = (t.log() if log_target else t).requires_grad_()
    check_op(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
             lambda a, b: TF.kl_div(a, b, reduction="batchmean", log_target=log_target), [x, t], device)


def test_kl_div_reductions_and_modules(device):
    x, t = kl_inputs((2, 3, 4), torch.float32, seed=3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        assert_close(F.kl_div(to_vt(x.detach(), device), to_vt(t, device)), TF.kl_div(x.detach(), t))
    check_op(lambda a, b: vt.nn.KLDivLoss(reduction="batchmean")(a, b),
             lambda a, b: torch.nn.KLDivLoss(reduction="batchmean")(a, b), [x, t], device)
    scalar = torch.tensor(-0.5, requires_grad=True)
    check_op(lambda a, b: F.kl_div(a, b, reduction="batchmean"), lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
             [scalar, torch.tensor(0.3)], device)  # a 0-d input: no batch to divide by
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.kl_div(to_vt(x.detach(), device), to_vt(t, device), reduction="avg")
    with pytest.raises(ValueError, match="'batchmean' is not a valid value for reduction"):
        F.l1_loss(to_vt(x.detach(), device), to_vt(t, device), reduction="batchmean")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules(device, reduction):
    x, t = pair((3, 4), torch.float32, seed=2)
    for name, kw in [("L1Loss", {}), ("SmoothL1Loss", {"beta": 0.7}), ("HuberLoss", {"delta": 0.7}), ("MSELoss", {})]:
        check_op(lambda a, b: getattr(vt.nn, name)(reduction=reduction, **kw)(a, b),
                 lambda a, b: getattr(torch.nn, name)(reduction=reduction, **kw)(a, b), [x, t], device)
        assert getattr(vt.nn, name)(reduction=reduction).reduction == reduction


def test_errors():
    x, t = vt.randn(3), vt.randn(3)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(x, t, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(x, t, delta=0.0)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        vt.nn.HuberLoss(delta="1")
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.mse_loss):
        with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
            fn(x, t, reduction="avg")
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        vt.nn.L1Loss(reduction="avg")
