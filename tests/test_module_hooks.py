"""nn.Module's forward and backward hooks (Note [Module hooks]) against torch's: what each hook sees, what a
value it returns replaces, their order, removal, and bad hooks."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close, to_torch, to_vt


def _pair(seed=0, device="cpu"):
    """A torch Linear and a vibetensor Linear with the same weights."""
    torch.manual_seed(seed)
    t = torch.nn.Linear(4, 3)
    v = vt.nn.Linear(4, 3)
    v.load_state_dict({k: w.detach().clone() for k, w in t.state_dict().items()})
    return t, v.to(device)


def _inputs(device="cpu", requires_grad=True, seed=1):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(seed))
    return x.clone().requires_grad_(requires_grad), to_vt(x, device, requires_grad=requires_grad)


def _both(fn_t, fn_v, device):
    """Registers the same kind of hook on both modules and runs forward and backward; (torch, vt) results."""
    t, v = _pair(device=device)
    xt, xv = _inputs(device)
    seen_t, seen_v = [], []
    fn_t(t, seen_t)
    fn_v(v, seen_v)
    yt, yv = t(xt), v(xv)
    w = torch.randn(yt.shape, generator=torch.Generator().manual_seed(2))
    (yt * w).sum().backward()
    (yv * to_vt(w, device)).sum().backward()
    return (t, xt, yt, seen_t), (v, xv, yv, seen_v)


def test_forward_pre_hook_and_forward_hook_replace_args_and_output(device):
    def register(m, seen):
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    (t, xt, yt, seen_t), (v, xv, yv, seen_v) = _both(register, register, device)
    assert_close(to_torch(yv), yt.detach())
    assert_close(to_torch(xv.grad), xt.grad)
    assert_close(to_torch(v.weight.grad), t.weight.grad)
    assert seen_v == seen_t == ["Linear"]


def test_a_non_tuple_pre_hook_result_becomes_the_single_argument():
    _, v = _pair()
    v.register_forward_pre_hook(lambda mod, args: vt.zeros(2, 4))
    assert tuple(v(vt.ones(7, 4)).shape) == (2, 3)


def test_hooks_with_kwargs_see_and_replace_the_keyword_arguments():
    class Scale(vt.nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs["factor"] * 10}), with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True)
    assert m(vt.ones(2), factor=3.0).tolist() == [30.0, 30.0]
    assert seen == [30.0]


def test_order_prepend_and_removal():
    _, v = _pair()
    order = []
    h1 = v.register_forward_hook(lambda *a: order.append(1))
    v.register_forward_hook(lambda *a: order.append(2))
    v.register_forward_hook(lambda *a: order.append(0), prepend=True)
    v(vt.ones(1, 4))
    assert order == [0, 1, 2]
    h1.remove()
    h1.remove()  # a second remove does nothing, as torch's
    order.clear()
    v(vt.ones(1, 4))
    assert order == [0, 2]
    with v.register_forward_pre_hook(lambda *a: order.append("pre")):
        v(vt.ones(1, 4))
    v(vt.ones(1, 4))
    assert order == [0, 2, "pre", 0, 2, 0, 2]


def test_always_call_hooks_run_when_forward_raises():
    _, v = _pair()
    seen = []
    v.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    v.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    with pytest.raises(ValueError):
        v(vt.ones(2, 5))  # 5 features, not 4
    assert seen == [("always", None)]


def test_full_backward_hook_sees_torchs_grad_input_and_grad_output(device):
    def register(m, seen):
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
    (t, xt, yt, seen_t), (v, xv, yv, seen_v) = _both(register, register, device)
    assert len(seen_v) == len(seen_t) == 1
    (gi_t, go_t), (gi_v, go_v) = seen_t[0], seen_v[0]
    assert len(gi_v) == len(gi_t) == 1 and len(go_v) == len(go_t) == 1
    assert_close(to_torch(gi_v[0]), gi_t[0])
    assert_close(to_torch(go_v[0]), go_t[0])


def test_full_backward_hook_and_pre_hook_replace_gradients(device):
    def register(m, seen):
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * -2,))
    (t, xt, yt, _), (v, xv, yv, _) = _both(register, register, device)
    assert_close(to_torch(xv.grad), xt.grad)  # -2 * (3 * grad)
    assert_close(to_torch(v.weight.grad), t.weight.grad)  # the pre-hook's 3x reaches the weight too
    assert_close(to_torch(v.bias.grad), t.bias.grad)


def test_a_backward_hook_on_a_module_whose_input_needs_no_gradient_gets_none():
    t, v = _pair()
    xt, xv = _inputs(requires_grad=False)
    seen_t, seen_v = [], []
    t.register_full_backward_hook(lambda mod, gi, go: seen_t.append((gi, go)))
    v.register_full_backward_hook(lambda mod, gi, go: seen_v.append((gi, go)))
    t(xt).sum().backward()
    v(xv).sum().backward()
    assert [gi for gi, _ in seen_v] == [gi for gi, _ in seen_t] == [(None,)]
    assert_close(to_torch(seen_v[0][1][0]), seen_t[0][1][0])
    assert_close(to_torch(v.weight.grad), t.weight.grad)


def test_backward_hooks_with_two_inputs_and_a_tuple_output():
    class Pair(torch.nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    class VtPair(vt.nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    rng = np.random.default_rng(3)
    a, b = (torch.tensor(rng.standard_normal((3, 2)), dtype=torch.float32) for _ in range(2))
    results = []
    for mod, conv in ((Pair(), lambda x: x.clone()), (VtPair(), lambda x: to_vt(x))):
        seen = []
        mod.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
        xa, xb = conv(a), conv(b)
        xa.requires_grad_(True) if isinstance(xa, torch.Tensor) else setattr(xa, "requires_grad", True)
        p, s = mod(xa, xb)  # b needs no gradient
        (p * 2 + s * 3).sum().backward()
        results.append(seen)
    (gi_t, go_t), (gi_v, go_v) = results[0][0], results[1][0]
    for gv, gt in zip(gi_v, gi_t):  # b's: zeros, in both
        assert_close(to_torch(gv), gt)
    for gv, gt in zip(go_v, go_t):
        assert_close(to_torch(gv), gt)


def test_activations_of_a_sequential_captured_by_forward_hooks():
    torch.manual_seed(4)
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    v = vt.nn.Sequential(vt.nn.Linear(4, 8), vt.nn.ReLU(), vt.nn.Linear(8, 2))
    v.load_state_dict({k: w.detach().clone() for k, w in t.state_dict().items()})
    acts_t, acts_v = {}, {}
    for name, m in t.named_modules():
        if name:
            m.register_forward_hook(lambda mod, args, out, name=name: acts_t.__setitem__(name, out.detach()))
    for name, m in v.named_modules():
        if name:
            m.register_forward_hook(lambda mod, args, out, name=name: acts_v.__setitem__(name, out.detach()))
    x = torch.randn(3, 4)
    t(x)
    v(to_vt(x))
    assert sorted(acts_v) == sorted(acts_t) == ["0", "1", "2"]
    for k in acts_t:
        assert_close(to_torch(acts_v[k]), acts_t[k])


def test_bad_hooks_are_clear_errors():
    _, v = _pair()
    with pytest.raises(TypeError, match="expected a callable hook, got int"):
        v.register_forward_hook(3)
    h = v.register_forward_pre_hook(lambda mod, args, kwargs: "oops", with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\)"):
        v(vt.ones(1, 4))
    h.remove()
    v.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = vt.ones(1, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned 2 gradient\(s\); expected one per input, 1"):
        v(x).sum().backward()


def test_a_module_without_hooks_is_called_directly(monkeypatch):
    """No hook, or only removed ones: __call__ goes straight to forward (Note [Module hooks]), never through the
    hook path."""
    from vibetensor.nn.modules import _hooks

    _, v = _pair()
    v.register_full_backward_hook(lambda *a: None).remove()
    v.register_forward_pre_hook(lambda *a: None).remove()

    def refuse(*a):
        raise AssertionError("the hook path ran for a module without hooks")

    monkeypatch.setattr(_hooks, "call_with_hooks", refuse)
    assert tuple(v(vt.ones(1, 4, requires_grad=True)).shape) == (1, 3)
    v.register_forward_hook(lambda *a: None)
    with pytest.raises(AssertionError, match="the hook path ran"):
        v(vt.ones(1, 4))
