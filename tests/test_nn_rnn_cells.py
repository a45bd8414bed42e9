"""nn.RNNCell, nn.LSTMCell and nn.GRUCell against torch's on every device: parameter names, shapes and
init bounds, a torch state_dict loaded and the outputs and gradients (input, state, every parameter)
matched, with and without bias and initial state, unbatched inputs, float64, a few steps unrolled, reprs,
and the errors."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, randn, to_torch, to_vt, vt_dtype

TOL = dict(rtol=1e-5, atol=1e-6)
KINDS = ["RNNCell", "LSTMCell", "GRUCell"]


def twins(kind, device, dtype=torch.float32, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(5, 6, **kw).to(dtype)
    vm = getattr(vt.nn, kind)(5, 6, dtype=vt_dtype(dtype), **kw)
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    return tm, vm.to(device)


def states(kind, shape, dtype, seed):
    h = randn(shape, dtype, seed=seed).requires_grad_()
    return (h, randn(shape, dtype, seed=seed + 1).requires_grad_()) if kind == "LSTMCell" else h


def as_vt(state, device):
    if isinstance(state, tuple):
        return tuple(as_vt(s, device) for s in state)
    return None if state is None else to_vt(state.detach(), device, requires_grad=True)


def outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def leaves(state):
    return [] if state is None else list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_match_torch(kind):
    tm, vm = getattr(torch.nn, kind)(5, 6), getattr(vt.nn, kind)(5, 6)
    assert [(n, tuple(p.shape)) for n, p in vm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    bound = 1 / math.sqrt(6)
    for p in vm.parameters():
        v = to_torch(p)
        assert v.abs().max() <= bound and v.std() > bound / 4  # U(-1/sqrt(H), 1/sqrt(H)), not constant
    tb, vb = getattr(torch.nn, kind)(5, 6, bias=False), getattr(vt.nn, kind)(5, 6, bias=False)
    assert [n for n, _ in vb.named_parameters()] == [n for n, _ in tb.named_parameters()] == ["weight_ih", "weight_hh"]
    assert vb.bias_ih is None and repr(vb) == repr(tb) and repr(vm) == repr(tm)
    assert repr(vt.nn.RNNCell(2, 3, nonlinearity="relu")) == repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("with_state", [True, False], ids=["state", "zeros"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("kind", KINDS + ["RNNCell-relu"])
def test_step_matches_torch(device, kind, bias, with_state, dtype):
    kw = {"nonlinearity": "relu"} if kind == "RNNCell-relu" else {}
    kind = kind.split("-")[0]
    tm, vm = twins(kind, device, dtype, bias=bias, **kw)
    x = randn((4, 5), dtype, seed=1).requires_grad_()
    hx = states(kind, (4, 6), dtype, seed=2) if with_state else None
    xv, hv = to_vt(x.detach(), device, requires_grad=True), as_vt(hx, device)
    out_t, out_v = outputs(tm(x, hx)), outputs(vm(xv, hv))
    tol = TOL if dtype == torch.float32 else {}
    ws = [randn(tuple(o.shape), dtype, seed=10 + i) for i, o in enumerate(out_t)]
    sum((o * w).sum() for o, w in zip(out_t, ws)).backward()
    sum(((o * to_vt(w, device)).sum() for o, w in zip(out_v, ws)), vt.zeros((), device=device, dtype=xv.dtype)).backward()
    for o, r in zip(out_v, out_t):
        assert_close(o, r.detach(), **tol)
    for a, b in zip([xv] + leaves(hv), [x] + leaves(hx)):
        assert_close(a.grad, b.grad, **tol)
    for (name, p), (_, q) in zip(tm.named_parameters(), vm.named_parameters()):
        assert_close(q.grad, p.grad, **tol)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_and_unrolled(device, kind):
    tm, vm = twins(kind, device)
    x = randn((5,), seed=3)
    hx = states(kind, (6,), torch.float32, seed=4)
    out_t, out_v = outputs(tm(x, hx)), outputs(vm(to_vt(x, device), as_vt(hx, device)))
    for o, r in zip(out_v, out_t):
        assert tuple(o.shape) == (6,)
        assert_close(o, r.detach(), **TOL)
    # three steps fed back: a sequence's gradient flows through the states
    xs = randn((3, 2, 5), seed=5).requires_grad_()
    xv = to_vt(xs.detach(), device, requires_grad=True)
    st, sv = None, None
    for t in range(3):
        st, sv = tm(xs[t], st), vm(xv[t], sv)
    out_t, out_v = outputs(st)[0], outputs(sv)[0]
    out_t.sum().backward()
    out_v.sum().backward()
    assert_close(out_v, out_t.detach(), **TOL)
    assert_close(xv.grad, xs.grad, **TOL)
    assert_close(vm.weight_hh.grad, tm.weight_hh.grad, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_errors(kind):
    m = getattr(vt.nn, kind)(5, 6)
    state = (lambda *s: (vt.zeros(*s), vt.zeros(*s))) if kind == "LSTMCell" else (lambda *s: vt.zeros(*s))
    hidden = "hx[0]" if kind == "LSTMCell" else "hidden"
    with pytest.raises(ValueError, match=f"{kind}: Expected input to be 1D or 2D, got 3D instead"):
        m(vt.zeros(1, 2, 5))
    with pytest.raises(ValueError, match=rf"{kind}: Expected {hidden.replace('[', '.').replace(']', '.')} to be 1D "
                                         "or 2D, got 3D instead"):
        m(vt.zeros(2, 5), state(1, 2, 6))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 4 expected 5"):
        m(vt.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"does not match the input's batch: expected \[2, 6\]"):
        m(vt.zeros(2, 5), state(3, 6))
    with pytest.raises(RuntimeError, match="has inconsistent hidden_size: got 7, expected 6"):
        m(vt.zeros(2, 5), state(2, 7))
    if kind == "RNNCell":
        with pytest.raises(RuntimeError, match="Unknown nonlinearity: gelu"):
            vt.nn.RNNCell(5, 6, nonlinearity="gelu")(vt.zeros(2, 5))
