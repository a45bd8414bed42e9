"""autograd API against torch: backward / grad arguments, custom Functions, grad-mode contexts
(context managers, decorators, thread-local state)."""
import threading

import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close


# --- backward and grad ----------------------------------------------------------------------

def test_backward_accumulates_into_leaves(rng):
    a = rng.standard_normal(4).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x * x
        y.backward(make.ones(4), retain_graph=True)
        y.backward(make.ones(4))
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


def test_backward_of_a_scalar_needs_no_gradient():
    x = vt.tensor([2.0], requires_grad=True)
    (x * x)[0].backward()
    assert x.grad.tolist() == [4.0]


def test_backward_errors():
    x = vt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        vt.ones(2).backward(vt.ones(2))
    y = x * x
    y.backward(vt.ones(3))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(vt.ones(3))
    with pytest.raises((RuntimeError, ValueError), match="shape"):
        (x * 2).backward(vt.ones(4))
    with pytest.raises(TypeError, match="Tensor"):
        vt.autograd.backward([x * 2, 3])


def test_autograd_backward_function_with_several_roots(rng):
    a = rng.standard_normal(3).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        make.autograd.backward([x * 2, x * x], [make.ones(3), make.full((3,), 0.5)])
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


def test_backward_inputs_only_accumulates_into_inputs():
    x = vt.ones(2, requires_grad=True)
    w = vt.full((2,), 3.0, requires_grad=True)
    (x * w).backward(vt.ones(2), inputs=[x])
    assert x.grad.tolist() == [3.0, 3.0] and w.grad is None


def test_grad_returns_tuple_and_leaves_grad_alone(rng):
    a = rng.standard_normal(3).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        w = make.tensor(a * 2, requires_grad=True)
        y = (x * w).exp()
        gx, gw = make.autograd.grad(y, (x, w), make.ones(3))
        if make is torch:
            ref = (gx, gw)
        else:
            assert_close(gx, ref[0])
            assert_close(gw, ref[1])
            assert x.grad is None and w.grad is None


def test_grad_allow_unused_and_materialize():
    x = vt.ones(2, requires_grad=True)
    z = vt.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        vt.autograd.grad(y, [x, z], vt.ones(2), retain_graph=True)
    gx, gz = vt.autograd.grad(y, [x, z], vt.ones(2), retain_graph=True, allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gz is None
    gx, gz = vt.autograd.grad(y, [x, z], vt.ones(2), materialize_grads=True)
    assert gz.tolist() == [0.0, 0.0]
    (g,) = vt.autograd.grad(x * x, x, vt.ones(2), create_graph=True)  # tests/test_double_backward.py has the rest
    assert g.requires_grad


# --- custom Function ------------------------------------------------------------------------

def _exp_fn(base):
    class MyExp(base):
        @staticmethod
        def forward(ctx, x, scale):
            out = x.exp() * scale
            ctx.save_for_backward(out)
            ctx.scale = scale
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out, None
    return MyExp


def test_custom_function_matches_torch(rng):
    a = rng.standard_normal(5).astype(np.float32)
    g = rng.standard_normal(5).astype(np.float32)
    for make, fn in ((torch, _exp_fn(torch.autograd.Function)), (vt, _exp_fn(vt.autograd.Function))):
        x = make.tensor(a, requires_grad=True)
        y = fn.apply(x, 2.0)
        assert y.grad_fn is not None and y.grad_fn.name() == "MyExpBackward"
        (y * 3).backward(make.tensor(g))
        if make is torch:
            ref_y, ref = y, x.grad
        else:
            assert_close(y, ref_y)
            assert_close(x.grad, ref)


def test_custom_function_forward_runs_without_grad_and_ctx_fields():
    seen = {}

    class Probe(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            seen["grad_enabled"] = vt.is_grad_enabled()
            seen["needs"] = ctx.needs_input_grad
            return x * y * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    x = vt.ones(2, requires_grad=True)
    out = Probe.apply(x, vt.ones(2), 3)
    assert seen == {"grad_enabled": False, "needs": (True, False, False)}
    assert out.requires_grad and not out.is_leaf
    out.backward(vt.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]
    # No input requires grad: no graph is recorded.
    assert Probe.apply(vt.ones(2), vt.ones(2), 1).grad_fn is None
    with vt.no_grad():
        assert Probe.apply(x, vt.ones(2), 1).grad_fn is None


def test_custom_function_multiple_outputs_and_non_differentiable():
    class SplitMax(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = vt.tensor([1, 0])
            ctx.mark_non_differentiable(idx)
            return x * 2, x * 3, idx

        @staticmethod
        def backward(ctx, g2, g3, gidx):
            assert gidx is not None and g3.tolist() == [0.0, 0.0]  # materialized zeros
            return g2 * 2 + g3 * 3

    x = vt.ones(2, requires_grad=True)
    a, b, idx = SplitMax.apply(x)
    assert not idx.requires_grad and a.requires_grad and b.requires_grad
    a.backward(vt.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]


def test_custom_function_errors():
    class WrongCount(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return (g,)

    x = vt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients \\(expected 2, got 1\\)"):
        WrongCount.apply(x, vt.ones(2)).backward(vt.ones(2))

    class WrongShape(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return vt.ones(3)

    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - got \\[3\\] but expected shape compatible "
                                           "with \\[2\\]"):
        WrongShape.apply(vt.ones(2, requires_grad=True)).backward(vt.ones(2))

    class SavesInput(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    x = vt.ones(2, requires_grad=True)
    y = x * 1
    out = SavesInput.apply(y)
    with vt.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward(vt.ones(2))
    with pytest.raises(TypeError, match="save_for_backward"):
        class BadSave(vt.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x
        BadSave.apply(x)
    with pytest.raises(RuntimeError, match="apply"):
        SavesInput()


def _cube_fn(base, decorate=lambda f: f):
    class Cube(base):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * x * x * w

        @staticmethod
        @decorate
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * 3 * x * x * w, (grad * x * x * x).sum_to_size(w.shape)
    return Cube


def test_custom_function_double_backward_matches_torch(rng):
    """Under create_graph a custom backward records its own graph, through the saved inputs (Note [Custom
    Function double backward]): the penalty's gradient matches torch's for both inputs."""
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    for make in (torch, vt):
        x, w = make.tensor(a, requires_grad=True), make.tensor(b, requires_grad=True)
        (gx,) = make.autograd.grad(_cube_fn(make.autograd.Function).apply(x, w).sum(), x, create_graph=True)
        gx2, gw2 = make.autograd.grad((gx * gx).sum(), (x, w))
        if make is torch:
            ref = gx.detach(), gx2, gw2
        else:
            for got, want in zip((gx.detach(), gx2, gw2), ref):
                assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_custom_function_second_backward_refusals():
    """once_differentiable refuses a second backward, in torch and here; so does a backward that uses a saved
    output (torch differentiates it through a weak reference vibetensor does not keep): a clear error, not
    a missing term."""
    from vibetensor.autograd.function import once_differentiable
    for make, decorate in ((torch, torch.autograd.function.once_differentiable), (vt, once_differentiable)):
        x, w = make.ones(3, requires_grad=True), make.ones(3, requires_grad=True)
        # squared, so that the gradient reaching the Function has history of its own
        (gx,) = make.autograd.grad((_cube_fn(make.autograd.Function, decorate).apply(x, w) ** 2).sum(), x,
                                   create_graph=True)
        assert_close(gx.detach(), make.full((3,), 6.0))
        with pytest.raises(RuntimeError, match="once_differentiable"):
            gx.sum().backward()
    x = vt.tensor([0.5, 1.0], requires_grad=True)
    (gx,) = vt.autograd.grad((_exp_fn(vt.autograd.Function).apply(x, 2.0) ** 2).sum(), x, create_graph=True)
    assert_close(gx.detach(), (x.detach() * 2).exp() * 8)
    with pytest.raises(NotImplementedError, match="MyExpBackward: .*uses a saved output"):
        vt.autograd.grad(gx.sum(), x)
    # the incoming gradient (of a sum) has no history: the refusal still stands, no term is dropped
    (gx,) = vt.autograd.grad(_exp_fn(vt.autograd.Function).apply(x, 2.0).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="MyExpBackward: .*uses a saved output"):
        vt.autograd.grad(gx.sum(), x)
    y = _exp_fn(vt.autograd.Function).apply(x, 2.0)  # first-order backward is unaffected
    y.sum().backward()
    assert_close(x.grad, x.detach().exp() * 2)


def test_custom_function_returning_its_input_keeps_the_input_a_leaf():
    class Ident(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = vt.ones(2, requires_grad=True)
    y = Ident.apply(x)
    assert x.is_leaf and not y.is_leaf and y._storage_id() == x._storage_id()
    y.backward(vt.ones(2))
    assert x.grad.tolist() == [5.0, 5.0]


# --- grad mode ------------------------------------------------------------------------------

def test_no_grad_enable_grad_contexts():
    x = vt.ones(2, requires_grad=True)
    with vt.no_grad():
        assert not vt.is_grad_enabled()
        y = x * 2
        with vt.enable_grad():
            z = x * 2
        assert not vt.is_grad_enabled()
    assert vt.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and z.grad_fn is not None
    with vt.inference_mode():
        assert (x * 2).grad_fn is None
    with vt.inference_mode(False):
        assert (x * 2).grad_fn is not None


def test_set_grad_enabled_as_call_context_and_decorator():
    vt.set_grad_enabled(False)
    assert not vt.is_grad_enabled()
    vt.set_grad_enabled(True)
    with vt.set_grad_enabled(False):
        assert not vt.is_grad_enabled()
    assert vt.is_grad_enabled()

    @vt.set_grad_enabled(False)
    def f():
        return vt.is_grad_enabled()

    assert vt.is_grad_enabled() and f() is False and vt.is_grad_enabled()
    with pytest.raises(TypeError, match="mode must be a bool"):
        vt.set_grad_enabled("no")


def test_decorators_with_and_without_parentheses():
    @vt.no_grad()
    def a():
        return vt.is_grad_enabled()

    @vt.no_grad
    def b():
        return vt.is_grad_enabled()

    @vt.enable_grad()
    def c():
        return vt.is_grad_enabled()

    @vt.inference_mode
    def d():
        return vt.is_grad_enabled()

    assert a() is False and b() is False and d() is False
    with vt.no_grad():
        assert c() is True
    assert a.__name__ == "a"

    @vt.no_grad()
    def gen():
        yield vt.is_grad_enabled()
        yield vt.is_grad_enabled()

    assert list(gen()) == [False, False] and vt.is_grad_enabled()


def test_grad_mode_restored_after_exceptions():
    with pytest.raises(ValueError):
        with vt.no_grad():
            raise ValueError
    assert vt.is_grad_enabled()


def test_grad_mode_is_thread_local():
    results = {}
    barrier = threading.Barrier(2)

    def worker(name, enabled):
        with vt.set_grad_enabled(enabled):
            barrier.wait()  # both threads are inside their contexts now
            x = vt.ones(2, requires_grad=True)
            results[name] = ((x * 2).requires_grad, vt.is_grad_enabled())
            barrier.wait()

    threads = [threading.Thread(target=worker, args=("off", False)),
               threading.Thread(target=worker, args=("on", True))]
    with vt.no_grad():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not vt.is_grad_enabled()
    assert results == {"off": (False, False), "on": (True, True)}

    # A new thread starts with grad enabled whatever its parent's mode (as torch).
    seen = []
    with vt.no_grad():
        t = threading.Thread(target=lambda: seen.append(vt.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_decorated_function_in_threads():
    @vt.no_grad()
    def f(out, i):
        out[i] = vt.is_grad_enabled()

    out = {}
    threads = [threading.Thread(target=f, args=(out, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {i: False for i in range(4)} and vt.is_grad_enabled()


_GLOBAL_GRAPH_SCRIPT = """
import vibetensor as vt
class Sq(vt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g
x = vt.randn(4, requires_grad=True)
y = Sq.apply(x).sum()   # a module global whose graph leads back to this module (Note [Python nodes at exit])
{tail}
"""


def _run_script(tail, cwd):
    """The script in a fresh interpreter importing this process's vibetensor (run from `cwd`, so a
    source folder in the working directory cannot shadow an installed package)."""
    import subprocess
    import sys

    from vibetensor.experiments import child

    return subprocess.run([sys.executable, "-c", _GLOBAL_GRAPH_SCRIPT.format(tail=tail)], capture_output=True,
                          text=True, env=child.child_env(), cwd=cwd, timeout=120)


def test_custom_function_graph_in_module_globals_is_freed_at_exit(tmp_path):
    proc = _run_script("y.backward()\nprint(float(x.grad.sum()) != 0)", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
    assert "leaked" not in proc.stderr, proc.stderr


def test_backward_after_python_functions_were_released_raises(tmp_path):
    proc = _run_script("n = vt._C._release_python_functions()\nassert n >= 1\n"
                       "try:\n    y.backward()\nexcept RuntimeError as e:\n    print('raised:', e)", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "raised:" in proc.stdout and "after interpreter shutdown began" in proc.stdout


def test_accumulation_into_an_existing_grad_keeps_its_storage():
    """As torch's AccumulateGrad: a second backward adds into .grad in place, so an optimizer's cached
    table of grad addresses or a captured step stays valid; an expanded .grad someone assigned is summed
    out of place instead of being written through its overlapping elements."""
    p = vt.randn(4, 3, requires_grad=True)
    tp = torch.from_numpy(p.detach().numpy().copy()).requires_grad_()
    for x in (p, tp):
        (x * 2).sum().backward()
    first = p.grad
    ptr = first.data_ptr()
    for x in (p, tp):
        (x * x).sum().backward()
    assert p.grad.data_ptr() == ptr
    assert_close(p.grad, tp.grad)
    assert_close(first, tp.grad)  # what held the first .grad sees the sum
    q = vt.randn(3, requires_grad=True)
    q.grad = vt.ones(1).expand(3)
    (q * 3).sum().backward()
    assert_close(q.grad, torch.full((3,), 4.0))
    z = vt.randn(2, requires_grad=True)
    (z * 2).sum().backward(create_graph=True)  # under create_graph the sum keeps its history, out of place
    g0 = z.grad.data_ptr()
    (z * z).sum().backward(create_graph=True)
    assert z.grad.data_ptr() != g0
