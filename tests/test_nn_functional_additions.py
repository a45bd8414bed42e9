"""F.one_hot, F.pad (constant, reflect, replicate, circular), the binary cross entropies (functions and modules)
and nn.Flatten / nn.Unflatten against torch on every device: values, gradients and errors."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt

F = vt.nn.functional


def test_one_hot(device):
    labels = torch.tensor([[0, 3], [2, 1]])
    assert_close(F.one_hot(to_vt(labels, device)), torch.nn.functional.one_hot(labels))
    assert_close(F.one_hot(to_vt(labels, device), 6), torch.nn.functional.one_hot(labels, 6))
    assert_close(F.one_hot(to_vt(torch.zeros(0, dtype=torch.int64), device), 3),
                 torch.nn.functional.one_hot(torch.zeros(0, dtype=torch.int64), 3))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(to_vt(labels, device), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(vt.tensor([-1, 0], device=device))
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type LongTensor"):
        F.one_hot(vt.tensor([1.0], device=device))


@pytest.mark.parametrize("pad", [(1, 2), (0, 0, 2, 1), (1, 1, 1, 1, 1, 0), (-1, 2), (2, -1, -1, 1)])
@pytest.mark.parametrize("value", [None, 1.5])
def test_pad_constant(device, pad, value):
    x = randn((2, 3, 4)).requires_grad_()
    kw = {} if value is None else {"value": value}
    check_op(lambda v: F.pad(v, pad, **kw), lambda t: torch.nn.functional.pad(t, pad, **kw), [x], device)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad,shape", [((2, 1), (2, 3, 5)), ((1, 2), (3, 5)), ((1, 2, 2, 0), (1, 2, 4, 5)),
                                        ((1, 0, 2, 1), (2, 4, 5))])
def test_pad_modes(device, mode, pad, shape):
    x = randn(shape).requires_grad_()
    check_op(lambda v: F.pad(v, pad, mode=mode), lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x], device)


def test_pad_errors():
    x = vt.randn(2, 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times the input dimension"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), mode="wrap")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(device, reduction):
    p = rand((4, 3), lo=0.05, hi=0.95).requires_grad_()
    t = rand((4, 3), lo=0.0, hi=1.0, seed=1)
    w = rand((3,), lo=0.5, hi=2.0, seed=2)
    check_op(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction=reduction), [p, t], device)
    check_op(lambda a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction),
             lambda a, b, c: torch.nn.functional.binary_cross_entropy(a, b, weight=c, reduction=reduction), [p, t, w],
             device)
    check_op(lambda a, b: vt.nn.BCELoss(reduction=reduction)(a, b),
             lambda a, b: torch.nn.BCELoss(reduction=reduction)(a, b), [p, t], device)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(device, reduction):
    x = randn((4, 3), scale=4.0).requires_grad_()
    t = rand((4, 3), lo=0.0, hi=1.0, seed=1)
    pw = rand((3,), lo=0.5, hi=3.0, seed=2)
    check_op(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x, t], device)
    check_op(lambda a, b, c: vt.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=c)(a, b),
             lambda a, b, c: torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=c)(a, b), [x, t, pw], device)


def test_bce_with_logits_gradient_at_a_zero_logit(device):
    """A logit of exactly 0 (probability 1/2) got the gradient 1 - t instead of 1/2 - t: relu's and |x|'s
    gradients at 0 are 0 in the composed softplus(-x)."""
    x = torch.tensor([0.0, 0.0, -200.0, 200.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 0.25, 1.0, 0.0, 0.5])
    pw = torch.tensor([1.0, 2.0, 0.5, 3.0, 1.5])
    check_op(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c, reduction="sum"),
             lambda a, b, c: torch.nn.functional.binary_cross_entropy_with_logits(a, b, pos_weight=c,
                                                                                  reduction="sum"),
             [x, t, pw], device)


def test_bce_extremes_and_errors():
    p = torch.tensor([0.0, 1.0, 0.5])
    t = torch.tensor([1.0, 0.0, 1.0])
    assert_close(F.binary_cross_entropy(to_vt(p), to_vt(t), reduction="none"),
                 torch.nn.functional.binary_cross_entropy(p, t, reduction="none"))  # logs clamped at -100
    big = torch.tensor([-200.0, 200.0, 0.0])
    assert_close(F.binary_cross_entropy_with_logits(to_vt(big), to_vt(t), reduction="none"),
                 torch.nn.functional.binary_cross_entropy_with_logits(big, t, reduction="none"))
    with pytest.raises(ValueError, match=r"Target size \(\(2,\)\) must be the same as input size \(\(3,\)\)"):
        F.binary_cross_entropy_with_logits(vt.randn(3), vt.rand(2))
    with pytest.raises(ValueError, match="Using a target size"):
        F.binary_cross_entropy(vt.rand(3), vt.rand(2))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.binary_cross_entropy(vt.rand(3), vt.rand(3), reduction="avg")


def test_flatten_unflatten(device):
    x = randn((2, 3, 4, 5)).requires_grad_()
    check_op(lambda v: vt.nn.Flatten()(v), lambda t: torch.nn.Flatten()(t), [x], device)
    check_op(lambda v: vt.nn.Flatten(0, 2)(v), lambda t: torch.nn.Flatten(0, 2)(t), [x], device)
    check_op(lambda v: vt.nn.Unflatten(1, (3, 1))(v), lambda t: torch.nn.Unflatten(1, (3, 1))(t), [x], device)
    assert repr(vt.nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(vt.nn.Unflatten(1, (3, 1))) == repr(torch.nn.Unflatten(1, (3, 1)))


def test_trunc_normal_():
    vt.manual_seed(0)
    w = vt.nn.init.trunc_normal_(vt.empty(200, 100), mean=0.5, std=2.0, a=-1.0, b=3.0)
    t = torch.nn.init.trunc_normal_(torch.empty(200, 100), mean=0.5, std=2.0, a=-1.0, b=3.0)
    v = torch.from_numpy(w.numpy().copy())
    assert v.min() >= -1.0 and v.max() <= 3.0
    assert abs(v.mean() - t.mean()) < 0.03 and abs(v.std() - t.std()) < 0.03
    p = vt.nn.Parameter(vt.zeros(3, 3))
    assert vt.nn.init.trunc_normal_(p, std=0.02) is p and p.is_leaf and float(p.abs().max()) <= 0.04
    with pytest.raises(ValueError, match="too little to draw from by rejection"):
        vt.nn.init.trunc_normal_(vt.empty(3), mean=0.0, std=1.0, a=10.0, b=11.0)
