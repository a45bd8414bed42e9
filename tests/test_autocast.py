"""vt.autocast and vt.amp.GradScaler (Note [Autocast] in csrc/dispatch/autocast.h) against torch's on every
device: which ops compute in the lower dtype and which in float32, the dtypes of results and of gradients,
values against torch's autocast from the same weights, nesting, threads, the backward running with
autocast off, the decorator form, GradScaler's skip / backoff / growth and its state, and bad input."""
import threading

import pytest
import torch

import vibetensor as vt

from harness import assert_close, randn, to_torch, to_vt

F = vt.nn.functional
LOWER = {"cpu": torch.bfloat16, "cuda": torch.float16}


def dt(torch_dtype):
    return getattr(vt, str(torch_dtype).split(".")[1])


@pytest.mark.parametrize("lower", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_linear_softmax_and_loss_dtypes_and_values_match_torch(device, lower):
    """Linear and matmul run in the lower dtype, softmax, log_softmax and cross_entropy in float32; gradients
    of float32 leaves come back in float32; values agree with torch.autocast from the same weights."""
    x = randn((8, 16), seed=1)
    w = randn((12, 16), seed=2, scale=0.3).requires_grad_()
    b = randn((12,), seed=3).requires_grad_()
    y = torch.randint(0, 12, (8,), generator=torch.Generator().manual_seed(4))
    tdev = device if device == "cpu" else "cuda"
    ref_dev = "cpu"  # torch here is a CPU build: the CUDA reference is torch's CPU autocast in the same dtype
    with torch.autocast(ref_dev, dtype=lower):
        h = torch.nn.functional.linear(x, w, b)
        p = torch.softmax(h, -1)
        loss = torch.nn.functional.cross_entropy(h, y)
    loss.backward()
    vx, vw, vb = to_vt(x, tdev), to_vt(w, tdev, requires_grad=True), to_vt(b, tdev, requires_grad=True)
    with vt.autocast(device, dtype=dt(lower)):
        vh = F.linear(vx, vw, vb)
        vp = vt.softmax(vh, -1)
        vloss = F.cross_entropy(vh, to_vt(y, tdev))
        vm = vh @ vh.t()
    assert (vh.dtype, vp.dtype, vloss.dtype, vm.dtype) == (dt(lower), vt.float32, vt.float32, dt(lower))
    assert h.dtype == lower
    vloss.backward()
    assert vw.grad.dtype == vt.float32 and vb.grad.dtype == vt.float32
    tol = dict(rtol=2e-2, atol=2e-2)
    # torch's CPU autocast keeps softmax in the lower dtype (its CUDA lists put it in float32): values only
    assert_close(vh.to(vt.float32), h.detach().float(), **tol)
    assert_close(vp, p.detach().float(), **tol)
    assert_close(vloss, loss.detach().float(), **tol)
    assert_close(to_torch(vw.grad), w.grad, **tol)
    assert_close(to_torch(vb.grad), b.grad, **tol)


def test_ops_outside_the_lists_keep_their_dtypes_and_promote(device):
    """add and relu run on what they get; a lower-precision matmul result plus a float32 tensor promotes."""
    a = to_vt(randn((4, 4), seed=5), device)
    with vt.autocast(device, dtype=vt.bfloat16):
        m = a @ a
        s = m + a
        r = vt.relu(a)
    assert (m.dtype, s.dtype, r.dtype) == (vt.bfloat16, vt.float32, vt.float32)


def test_other_device_and_float64_are_not_cast(device):
    """A region for the other device type leaves this one's ops alone, and float64 is never cast."""
    other = "cuda" if device == "cpu" else "cpu"
    a = to_vt(randn((4, 4), seed=6), device)
    with vt.autocast(other, dtype=vt.bfloat16):
        assert (a @ a).dtype == vt.float32
    d = to_vt(randn((4, 4), torch.float64, seed=7), device)
    with vt.autocast(device, dtype=vt.bfloat16):
        assert (d @ d).dtype == vt.float64


def test_nesting_disabling_and_restoring(device):
    a = to_vt(randn((4, 4), seed=8), device)
    assert not vt.is_autocast_enabled(device)
    with vt.autocast(device, dtype=vt.float16):
        assert vt.is_autocast_enabled(device) and vt.get_autocast_dtype(device) == vt.float16
        with vt.autocast(device, enabled=False):
            assert (a @ a).dtype == vt.float32 and not vt.is_autocast_enabled(device)
        with vt.autocast(device, dtype=vt.bfloat16):
            assert (a @ a).dtype == vt.bfloat16
        assert (a @ a).dtype == vt.float16
    assert (a @ a).dtype == vt.float32 and not vt.is_autocast_enabled(device)


def test_state_is_restored_when_the_region_raises(device):
    with pytest.raises(KeyError):
        with vt.autocast(device, dtype=vt.bfloat16):
            raise KeyError("x")
    assert not vt.is_autocast_enabled(device)


def test_decorator_form(device):
    a = to_vt(randn((4, 4), seed=9), device)

    @vt.autocast(device, dtype=vt.bfloat16)
    def f(x):
        return x @ x

    assert f(a).dtype == vt.bfloat16 and (a @ a).dtype == vt.float32


def test_autocast_is_per_thread(device):
    """A region open on one thread does not cast another thread's ops (the state is thread-local)."""
    a = to_vt(randn((4, 4), seed=10), device)
    seen = []
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen.append((a @ a).dtype)
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with vt.autocast(device, dtype=vt.bfloat16):
        inside.set()
        done.wait(30)
        assert (a @ a).dtype == vt.bfloat16
    t.join(30)
    assert seen == [vt.float32]


@pytest.mark.parametrize("executor", ["engine", "python"])
def test_backward_runs_with_autocast_off(device, executor):
    """backward() called inside a region computes in the forward's dtypes: float32 gradients of a float32
    graph, the same as outside a region (under both backward executors)."""
    x = randn((6, 5), seed=11)
    grads = []
    for inside in (False, True):
        v = to_vt(x, device, requires_grad=True)
        with vt.policy.override({"autograd.executor": executor}):
            out = (vt.tanh(v) * v).sum()  # sum would be float32 anyway; tanh, mul are not in the lists
            if inside:
                with vt.autocast(device, dtype=vt.bfloat16):
                    out.backward()
            else:
                out.backward()
        grads.append(to_torch(v.grad))
        assert v.grad.dtype == vt.float32
    assert_close(grads[1], grads[0], rtol=0, atol=0)


def test_torch_spellings():
    assert vt.amp.autocast is vt.autocast
    assert issubclass(vt.cuda.amp.autocast, vt.autocast) and issubclass(vt.cuda.amp.GradScaler, vt.amp.GradScaler)
    assert vt.get_autocast_dtype("cpu") == vt.bfloat16 and vt.get_autocast_dtype("cuda") == vt.float16
    assert vt.amp.is_autocast_available("cuda") and not vt.amp.is_autocast_available("xla")


@pytest.mark.parametrize("bad", [dict(device_type="tpu"), dict(device_type="cpu", dtype=vt.float32),
                                 dict(device_type="cuda", dtype=vt.int64), dict(device_type=0)], ids=str)
def test_bad_autocast_arguments_raise(bad):
    with pytest.raises(ValueError, match="autocast"):
        vt.autocast(**bad)


def test_native_state_setter_rejects_an_unsupported_dtype():
    with pytest.raises(ValueError, match="not supported"):
        vt._C._set_autocast_state(True, vt.float32, False, vt.bfloat16)
    assert not vt.is_autocast_enabled("cuda")


# ----- GradScaler -----

def _scaler(device, **kw):
    return vt.amp.GradScaler(device, **kw)


def _model(device, seed=12):
    vt.manual_seed(seed)
    return vt.nn.Linear(4, 3).to(device)


def test_gradscaler_scales_unscales_and_steps_as_torch(device):
    """Three steps with the loss scaled: the gradients the optimizer sees are the unscaled ones, so weights
    match a plain SGD run and torch's GradScaler on the CPU."""
    x, y = randn((5, 4), seed=13), randn((5, 3), seed=14)
    tm = torch.nn.Linear(4, 3)
    m = _model(device)
    with torch.no_grad():
        tm.weight.copy_(to_torch(m.weight)), tm.bias.copy_(to_torch(m.bias))
    topt, opt = torch.optim.SGD(tm.parameters(), lr=0.1), vt.optim.SGD(m.parameters(), lr=0.1)
    tsc, sc = torch.amp.GradScaler("cpu", init_scale=1024.0), _scaler(device, init_scale=1024.0)
    for _ in range(3):
        topt.zero_grad(), opt.zero_grad()
        tsc.scale(torch.nn.functional.mse_loss(tm(x), y)).backward()
        sc.scale(F.mse_loss(m(to_vt(x, device)), to_vt(y, device))).backward()
        tsc.unscale_(topt), sc.unscale_(opt)
        assert_close(to_torch(m.weight.grad), tm.weight.grad, rtol=1e-5, atol=1e-6)
        tsc.step(topt), sc.step(opt)
        tsc.update(), sc.update()
    assert_close(to_torch(m.weight), tm.weight.detach(), rtol=1e-5, atol=1e-6)
    assert sc.get_scale() == tsc.get_scale() == 1024.0


@pytest.mark.parametrize("bad_value", [float("inf"), float("nan")], ids=["inf", "nan"])
def test_gradscaler_skips_the_step_and_backs_off_on_a_bad_gradient(device, bad_value):
    m = _model(device)
    opt = vt.optim.SGD(m.parameters(), lr=0.1)
    sc = _scaler(device, init_scale=256.0, growth_interval=2)
    before = to_torch(m.weight).clone()
    sc.scale((m(to_vt(randn((2, 4), seed=15), device)) * bad_value).sum()).backward()
    assert sc.step(opt) is None
    sc.update()
    assert_close(to_torch(m.weight), before, rtol=0, atol=0)
    assert sc.get_scale() == 128.0
    for _ in range(2):  # two clean steps grow it back (growth_interval=2)
        opt.zero_grad()
        sc.scale(m(to_vt(randn((2, 4), seed=16), device)).sum()).backward()
        sc.step(opt)
        sc.update()
    assert sc.get_scale() == 256.0
    assert sc.state_dict()["scale"] == 256.0


def test_gradscaler_state_round_trips_and_disabled_is_a_pass_through(device):
    sc = _scaler(device, init_scale=8.0)
    sc2 = _scaler(device)
    sc2.load_state_dict(sc.state_dict())
    assert sc2.get_scale() == 8.0
    off = vt.amp.GradScaler(device, enabled=False)
    t = to_vt(randn((2,), seed=17), device)
    assert off.scale(t) is t and off.get_scale() == 1.0 and off.state_dict() == {}


def test_gradscaler_misuse_raises_clear_errors(device):
    m = _model(device)
    opt = vt.optim.SGD(m.parameters(), lr=0.1)
    sc = _scaler(device)
    sc.scale(m(to_vt(randn((2, 4), seed=18), device)).sum()).backward()
    sc.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        sc.unscale_(opt)
    sc.step(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        sc.step(opt)
    with pytest.raises(TypeError, match="expected a tensor"):
        sc.scale("loss")
    with pytest.raises(ValueError, match="device"):
        vt.amp.GradScaler("tpu")
    with pytest.raises(ValueError, match="growth_factor"):
        vt.amp.GradScaler("cpu", growth_factor=0.5)
