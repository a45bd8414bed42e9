"""autograd.executor=python (Note [Python backward executor]): the same gradients as the C++ engine,
node by node from Python; every node is counted; the engine's errors are kept."""
import numpy as np
import pytest

import vibetensor as vt


def _model_grads(executor, seed=0, retain=False):
    rng = np.random.default_rng(seed)
    w1 = vt.tensor(rng.standard_normal((16, 32)).astype(np.float32), requires_grad=True)
    w2 = vt.tensor(rng.standard_normal((32, 8)).astype(np.float32), requires_grad=True)
    b = vt.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    x = vt.tensor(rng.standard_normal((5, 16)).astype(np.float32))
    y = vt.tensor(rng.integers(0, 8, 5).astype(np.int64))
    with vt.policy.override({"autograd.executor": executor}):
        h = vt.nn.functional.gelu(x @ w1)
        logits = h @ w2 + b
        # w2 used twice (accumulation at a leaf), a max with an undefined index gradient, a split
        loss = vt.nn.functional.cross_entropy(logits, y) + (w2 * w2).sum() * 0.01 + logits.max(dim=1)[0].mean()
        parts = logits.split(4, dim=1)
        loss = loss + parts[0].sum() * 0.5  # parts[1] gets no gradient: zero-filled
        loss.backward(retain_graph=retain)
        if retain:
            loss.backward()
    return [t.grad.numpy().copy() for t in (w1, w2, b)]


@pytest.mark.parametrize("retain", [False, True])
def test_python_executor_matches_the_engine(retain):
    for a, b in zip(_model_grads("engine", retain=retain), _model_grads("python", retain=retain)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_python_executor_runs_every_node_and_counts_it():
    x = vt.randn(4, 3, requires_grad=True)
    with vt.policy.override({"probes.counters": "on"}):
        counts = {}
        for executor in ("engine", "python"):
            before = dict(vt._C._counters())["autograd_nodes_executed"]
            with vt.policy.override({"autograd.executor": executor}):
                (x.exp() * 2).sum().backward()
            counts[executor] = dict(vt._C._counters())["autograd_nodes_executed"] - before
    # sum, mul, exp, the leaf's accumulator; the engine also counts its GraphRoot node
    assert counts["python"] == 4 and counts["engine"] == 5


def test_python_executor_with_a_python_function_and_two_outputs():
    class Cube(vt.autograd.Function):  # a Python node: its binding keeps the GIL
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t * t

        @staticmethod
        def backward(ctx, g):
            return 3 * ctx.saved_tensors[0] ** 2 * g

    got = {}
    for executor in ("engine", "python"):
        x = vt.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        with vt.policy.override({"autograd.executor": executor}):
            a = Cube.apply(x)
            vt.autograd.backward([a.sum(), (a * x).sum()], [vt.tensor(1.0), vt.tensor(3.0)])
        got[executor] = x.grad.numpy()
    np.testing.assert_allclose(got["python"], got["engine"], rtol=1e-6)


def test_python_executor_keeps_the_engines_errors():
    with vt.policy.override({"autograd.executor": "python"}):
        x = vt.randn(3, requires_grad=True)
        y = x.exp()  # saves its output: a second backward through it must fail
        with pytest.raises(RuntimeError, match="only for scalar outputs"):
            y.backward()
        with pytest.raises(RuntimeError, match="does not require grad"):
            vt.randn(3).sum().backward()
        y.sum().backward()
        with pytest.raises(RuntimeError, match="freed|second time|released"):
            y.sum().backward()
