"""tensor.register_hook, RemovableHandle and retain_grad (Note [Tensor hooks]) against torch: hooks on leaves
and non-leaves, replacing and observing gradients, several hooks in order, removal, retained gradients of
non-leaves (accumulating over backward calls), and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, randn, to_vt


def run(lib, x0, w0, register):
    x = lib.tensor(x0.tolist(), requires_grad=True)
    w = lib.tensor(w0.tolist(), requires_grad=True)
    seen = []
    h = (x * w).tanh()
    handles = register(lib, x, w, h, seen)
    (h * h).sum().backward()
    for handle in handles:
        handle.remove()
    return x.grad, w.grad, seen


CASES = {
    "leaf_observe": lambda lib, x, w, h, seen: [x.register_hook(lambda g: seen.append(g.clone()))],
    "leaf_replace": lambda lib, x, w, h, seen: [w.register_hook(lambda g: g * 3)],
    "nonleaf_replace": lambda lib, x, w, h, seen: [h.register_hook(lambda g: g.clamp(-0.5, 0.5))],
    "chain": lambda lib, x, w, h, seen: [h.register_hook(lambda g: g * 2), h.register_hook(lambda g: g + 1),
                                         x.register_hook(lambda g: seen.append(g.clone()))],
}


@pytest.mark.parametrize("name", list(CASES))
def test_hooks_match_torch(name):
    x0, w0 = randn((3, 4)), randn((3, 4), seed=1)
    got = run(vt, x0, w0, CASES[name])
    ref = run(torch, x0, w0, CASES[name])
    assert_close(got[0], ref[0])
    assert_close(got[1], ref[1])
    assert len(got[2]) == len(ref[2])
    for a, b in zip(got[2], ref[2]):
        assert_close(a, b)


def test_remove_and_context_manager():
    x = vt.ones(3, requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [20.0] * 3
    handle.remove()
    handle.remove()  # twice: nothing
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0] * 3
    y = vt.ones(2, requires_grad=True)
    with y.register_hook(lambda g: g * 0):
        y.sum().backward()
    assert y.grad.tolist() == [0.0, 0.0]


def test_retain_grad():
    for lib in (vt, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * x
        h.retain_grad()
        h.retain_grad()  # twice: once
        assert h.retains_grad and not x.retains_grad
        (h * 3).sum().backward(retain_graph=True)
        first = h.grad.tolist()
        (h * 3).sum().backward()
        if lib is vt:
            mine = (first, h.grad.tolist(), x.grad.tolist())
        else:
            assert mine == (first, h.grad.tolist(), x.grad.tolist())
    h.grad = None  # (torch's h)
    leaf = vt.ones(2, requires_grad=True)
    leaf.retain_grad()  # a leaf: no-op
    assert not leaf.retains_grad


def test_errors():
    x = vt.ones(2)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        x.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        x.retain_grad()
    y = vt.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="register_hook: expected a callable"):
        y.register_hook(3)
    with y.register_hook(lambda g: vt.ones(3)):
        with pytest.raises(RuntimeError, match="hook returned a gradient of .*expected one of the gradient's dtype "
                                               "and shape"):
            (y * 2).sum().backward()
    with y.register_hook(lambda g: 1 / 0):
        with pytest.raises(ZeroDivisionError):
            (y * 2).sum().backward()
