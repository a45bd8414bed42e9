"""vibetensor.utils.checkpoint (Note [Activation checkpointing]): checkpoint and checkpoint_sequential in both
variants. A dropout MLP checkpointed against the same MLP not checkpointed (same seed: the same losses and
gradients, and the generator left where the plain run leaves it); a deterministic function against torch's
checkpoint (outputs and every gradient); the function runs twice, and no node of its ops outlives the forward;
tuple outputs, nested arguments, non-tensor arguments, keyword arguments, inputs that don't require grad;
context_fn and the determinism check; torch's errors."""
import warnings

import pytest
import torch
import torch.utils.checkpoint as torch_cp

import vibetensor as vt
from vibetensor.utils.checkpoint import checkpoint, checkpoint_sequential

from harness import assert_close, randn, to_vt

TOL = dict(rtol=1e-5, atol=1e-6)
VARIANTS = pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non_reentrant"])


def _mlp(lib, dropout):
    nn = lib.nn
    layers = [nn.Linear(6, 16), nn.Tanh()] + ([nn.Dropout(0.5)] if dropout else []) + [nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def _twins(dropout=False, device="cpu"):
    torch.manual_seed(0)
    tm = _mlp(torch, dropout)
    vm = _mlp(vt, dropout)
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    return tm, vm.to(device)


def _grads(module):
    return [p.grad.clone() for p in module.parameters()]


class _Counted:
    """A function that counts its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


@VARIANTS
def test_dropout_mlp_checkpointed_equals_plain(device, reentrant):
    _, vm = _twins(dropout=True, device=device)
    x = to_vt(randn((8, 6), seed=1), device)
    runs = {}
    for mode in ("plain", "checkpointed"):
        vm.zero_grad(set_to_none=True)
        xi = x.detach().requires_grad_()
        vt.manual_seed(123)
        out = vm(xi) if mode == "plain" else checkpoint(vm, xi, use_reentrant=reentrant)
        loss = (out * out).sum()
        loss.backward()
        after = vt.rand(4, device=device)  # the recomputation must leave the generator where the plain run did
        runs[mode] = (loss.item(), _grads(vm), xi.grad.clone(), after)
    (loss_p, grads_p, gx_p, after_p), (loss_c, grads_c, gx_c, after_c) = runs["plain"], runs["checkpointed"]
    assert loss_c == loss_p
    for gc, gp in zip(grads_c + [gx_c], grads_p + [gx_p]):
        assert vt.equal(gc, gp)
    assert vt.equal(after_c, after_p)


@VARIANTS
def test_without_preserved_rng_the_recomputation_draws_other_masks(reentrant):
    _, vm = _twins(dropout=True)
    x = to_vt(randn((64, 6), seed=1), requires_grad=True)
    vt.manual_seed(5)
    vm(x).sum().backward()
    plain = x.grad.clone()
    x.grad = None
    vt.manual_seed(5)
    checkpoint(vm, x, use_reentrant=reentrant, preserve_rng_state=False).sum().backward()
    assert not vt.allclose(x.grad, plain)


@VARIANTS
def test_matches_torch_checkpoint(device, reentrant):
    tm, vm = _twins(device=device)
    x = randn((5, 6), seed=2)
    xt, xv = x.clone().requires_grad_(), to_vt(x, device, requires_grad=True)
    w = randn((5, 3), seed=3)
    yt = torch_cp.checkpoint(tm, xt, use_reentrant=reentrant)
    yv = checkpoint(vm, xv, use_reentrant=reentrant)
    assert_close(yv, yt.detach(), **TOL)
    (yt * w).sum().backward()
    (yv * to_vt(w, device)).sum().backward()
    assert_close(xv.grad, xt.grad, **TOL)
    for (name, pt), pv in zip(tm.named_parameters(), vm.parameters()):
        assert pv.grad is not None, name
        assert_close(pv.grad, pt.grad, **TOL)


@VARIANTS
def test_runs_twice_and_keeps_no_inner_node(reentrant):
    _, vm = _twins()
    fn = _Counted(vm)
    x = to_vt(randn((4, 6), seed=4), requires_grad=True)
    y = checkpoint(fn, x, use_reentrant=reentrant)
    assert fn.calls == 1
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    # its edges lead straight to the input's leaf: none of the MLP's own nodes (AddmmBackward, TanhBackward) exist
    assert [n.is_accumulate_grad for n, _ in y.grad_fn.next_functions if n is not None] == [True]
    y.sum().backward()
    assert fn.calls == 2
    assert all(p.grad is not None for p in vm.parameters())
    plain = vm(x)
    assert plain.grad_fn.name() != "CheckpointFunctionBackward"  # the test can tell the two apart


@VARIANTS
def test_tuple_outputs_nested_and_non_tensor_arguments(reentrant):
    def fn(pair, scale, mode):
        a, b = pair
        s = a * b * scale
        return (s.sin(), mode, [s.exp(), (a - b,)])

    def torch_fn(a, b, scale, mode):
        s = a * b * scale
        return s.sin(), mode, s.exp(), a - b

    a, b = randn((3, 4), seed=5), randn((3, 4), seed=6)
    at, bt = a.clone().requires_grad_(), b.clone().requires_grad_()
    av, bv = to_vt(a, requires_grad=True), to_vt(b, requires_grad=True)
    ref = torch_fn(at, bt, 0.5, "m")
    out = checkpoint(fn, (av, bv), 0.5, "m", use_reentrant=reentrant)
    assert isinstance(out, tuple) and out[1] == "m" and isinstance(out[2], list) and isinstance(out[2][1], tuple)
    got = (out[0], out[2][0], out[2][1][0])
    for o, r in zip(got, (ref[0], ref[2], ref[3])):
        assert o.grad_fn.name() == "CheckpointFunctionBackward"
        assert_close(o, r.detach(), **TOL)
    ws = [randn((3, 4), seed=10 + i) for i in range(3)]
    sum((r * w).sum() for r, w in zip((ref[0], ref[2], ref[3]), ws)).backward()
    loss = None
    for o, w in zip(got, ws):
        term = (o * to_vt(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    assert_close(av.grad, at.grad, **TOL)
    assert_close(bv.grad, bt.grad, **TOL)


def test_keyword_arguments_non_reentrant():
    _, vm = _twins()
    tm, _ = _twins()

    def fn(x, *, bias, scale=1.0):
        return vm(x) * scale + bias

    x, bias = randn((4, 6), seed=7), randn((3,), seed=8)
    xv, bv = to_vt(x, requires_grad=True), to_vt(bias, requires_grad=True)
    xt, bt = x.clone().requires_grad_(), bias.clone().requires_grad_()
    yv = checkpoint(fn, xv, use_reentrant=False, bias=bv, scale=2.0)
    yt = tm(xt) * 2.0 + bt
    assert_close(yv, yt.detach(), **TOL)
    yv.sum().backward()
    yt.sum().backward()
    assert_close(xv.grad, xt.grad, **TOL)
    assert_close(bv.grad, bt.grad, **TOL)
    assert_close(vm[0].weight.grad, tm[0].weight.grad, **TOL)


def test_inputs_without_grad():
    tm, vm = _twins()
    x = randn((4, 6), seed=9)
    # non-reentrant: the parameters still get their gradients, as torch's
    checkpoint(vm, to_vt(x), use_reentrant=False).sum().backward()
    torch_cp.checkpoint(tm, x, use_reentrant=False).sum().backward()
    for pt, pv in zip(tm.parameters(), vm.parameters()):
        assert_close(pv.grad, pt.grad, **TOL)
    # reentrant: torch warns and nothing gets a gradient
    vm.zero_grad(set_to_none=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(vm, to_vt(x), use_reentrant=True)
    assert not y.requires_grad
    assert all(p.grad is None for p in vm.parameters())


@VARIANTS
def test_checkpoint_sequential_matches_torch(reentrant):
    torch.manual_seed(1)
    tm = torch.nn.Sequential(*[m for _ in range(3) for m in (torch.nn.Linear(6, 6), torch.nn.Tanh())])
    vm = vt.nn.Sequential(*[m for _ in range(3) for m in (vt.nn.Linear(6, 6), vt.nn.Tanh())])
    vm.load_state_dict({k: to_vt(v) for k, v in tm.state_dict().items()})
    counted = [_Counted(m) for m in vm]
    x = randn((5, 6), seed=11)
    xt, xv = x.clone().requires_grad_(), to_vt(x, requires_grad=True)
    yt = torch_cp.checkpoint_sequential(tm, 3, xt, use_reentrant=reentrant)
    yv = checkpoint_sequential(counted, 3, xv, use_reentrant=reentrant)
    assert_close(yv, yt.detach(), **TOL)
    yt.pow(2).sum().backward()
    yv.pow(2).sum().backward()
    assert_close(xv.grad, xt.grad, **TOL)
    for pt, pv in zip(tm.parameters(), vm.parameters()):
        assert_close(pv.grad, pt.grad, **TOL)
    # segments of two functions: the first two are checkpointed (run twice), the last runs once
    assert [c.calls for c in counted] == [2, 2, 2, 2, 1, 1]
    # an nn.Sequential itself
    vm.zero_grad(set_to_none=True)
    checkpoint_sequential(vm, 2, to_vt(x, requires_grad=True), use_reentrant=reentrant).pow(2).sum().backward()
    assert all(p.grad is not None for p in vm.parameters())


def test_context_fn_and_determinism_check():
    entered = []

    class Ctx:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            entered.append(self.name)

        def __exit__(self, *exc):
            return False

    x = to_vt(randn((3,), seed=12), requires_grad=True)
    y = checkpoint(lambda t: t.sin(), x, use_reentrant=False, context_fn=lambda: (Ctx("forward"), Ctx("recompute")))
    assert entered == ["forward"]
    y.sum().backward()
    assert entered == ["forward", "recompute"]
    assert_close(x.grad, torch.cos(torch.tensor(x.detach().tolist())), **TOL)

    calls = []

    def dtype_changes(t):  # the recomputation runs other operations: float64 where the forward had float32
        calls.append(1)
        return t * 2 if len(calls) == 1 else t.double() * 3

    with pytest.raises(RuntimeError, match="different metadata than during the forward pass") as info:
        checkpoint(dtype_changes, x, use_reentrant=False).sum().backward()
    assert "float32" in str(info.value) and "float64" in str(info.value)
    calls.clear()
    x.grad = None
    checkpoint(dtype_changes, x, use_reentrant=False, determinism_check="none").sum().backward()
    assert_close(x.grad, torch.full((3,), 3.0), **TOL)  # unchecked: the recomputation's graph was differentiated


@VARIANTS
def test_grad_and_backward_inputs_are_refused(reentrant):
    _, vm = _twins()
    x = to_vt(randn((4, 6), seed=13), requires_grad=True)
    with pytest.raises(RuntimeError, match="incompatible with .grad"):
        vt.autograd.grad(checkpoint(vm, x, use_reentrant=reentrant).sum(), x)
    with pytest.raises(RuntimeError, match="incompatible with .grad"):
        checkpoint(vm, x, use_reentrant=reentrant).sum().backward(inputs=[x])
    assert all(p.grad is None for p in vm.parameters())  # nothing was accumulated behind the caller's back
    checkpoint(vm, x, use_reentrant=reentrant).sum().backward()  # the count went back down
    assert x.grad is not None


def test_input_modified_in_place_after_forward():
    x = to_vt(randn((3,), seed=14), requires_grad=True)
    h = x * 1.0
    y = checkpoint(lambda t: t.exp(), h, use_reentrant=True)
    with vt.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_errors():
    _, vm = _twins()
    x = to_vt(randn((4, 6), seed=15), requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda t, scale: t * scale, x, use_reentrant=True, scale=2.0)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(vm, x, use_reentrant=True, context_fn=lambda: (None, None))
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(vm, x, use_reentrant=False, determinism_check="strict")
    with pytest.raises(NotImplementedError, match="debug=True"):
        checkpoint(vm, x, use_reentrant=False, debug=True)
    with pytest.raises(TypeError, match="must be callable"):
        checkpoint(3, x, use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(vm, 2, x, use_reentrant=True, foo=1)
    for bad in (0, 4, 1.5):
        with pytest.raises(ValueError, match="segments must be an integer from 1 to the number of functions"):
            checkpoint_sequential(vm, bad, x, use_reentrant=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint(vm, x)
    assert any("use_reentrant parameter should be passed explicitly" in str(w.message) for w in caught)


def test_torch_alias_finds_the_module():
    from vibetensor.compat.alias_map import alias_map

    names = alias_map()
    assert names["torch.utils.checkpoint"] == "vibetensor.utils.checkpoint"


def test_another_threads_grad_call_does_not_make_a_checkpoint_refuse():
    """Note [Partial backward] is per backward call: thread B's autograd.grad, in flight (its custom node waits)
    while thread A runs a checkpointed backward, must not make A's checkpoint raise "incompatible with .grad()"."""
    import threading

    in_flight, a_done = threading.Event(), threading.Event()

    class Wait(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            in_flight.set()
            a_done.wait(30)
            return g

    errors = []

    def thread_b():
        x = vt.ones(3, requires_grad=True)
        try:
            vt.autograd.grad(Wait.apply(x).sum(), [x])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    b = threading.Thread(target=thread_b)
    b.start()
    assert in_flight.wait(30)
    try:
        lin = vt.nn.Linear(3, 2)
        y = checkpoint(lin, vt.ones(4, 3, requires_grad=True), use_reentrant=True)
        y.sum().backward()
        assert lin.weight.grad is not None
    finally:
        a_done.set()
        b.join(30)
    assert not errors, errors
