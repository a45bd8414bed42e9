"""Higher-order gradients (Note [Double backward] in csrc/autograd/node.h) against torch on random inputs:
autograd.grad(create_graph=True) then a second grad through the first, for the elementwise ops, reductions,
matmul and linear, saved outputs (exp, tanh, sigmoid, sqrt, relu), gelu (exact and tanh) and a gradient
penalty on a small MLP; backward(create_graph=True) accumulating a .grad with history; a third order; and a
backward kernel without a second derivative refused by name. Every case runs on each device."""
import warnings

import pytest

torch = pytest.importorskip("torch")
import vibetensor as vt  # noqa: E402

from harness import to_torch, to_vt  # noqa: E402

TOL = dict(rtol=1e-4, atol=1e-5)
F = vt.nn.functional
TF = torch.nn.functional


def _inputs(shape, seed, positive=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64).float()
    return x.abs() + 0.5 if positive else x


UNARY = {
    "mul_self": (lambda m, x: x * x * x, False),
    "div": (lambda m, x: 1.0 / (x + 3.0), False),
    "pow_scalar": (lambda m, x: x ** 3, False),
    "exp": (lambda m, x: x.exp(), False),
    "log": (lambda m, x: x.log(), True),
    "sqrt": (lambda m, x: x.sqrt(), True),
    "tanh": (lambda m, x: x.tanh(), False),
    "sigmoid": (lambda m, x: x.sigmoid(), False),
    "sin": (lambda m, x: x.sin(), False),
    "relu_squared": (lambda m, x: m.nn.functional.relu(x) ** 2, False),
    "gelu": (lambda m, x: m.nn.functional.gelu(x), False),
    "gelu_tanh": (lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), False),
    "mean_square": (lambda m, x: (x * x).mean(-1, keepdim=True) * x, False),
    "sum_broadcast": (lambda m, x: x.sum(0) * x, False),
}


def _second_order(lib, f, x, v):
    """d/dx <grad_x sum(f(x) * w), v> with w fixed: a Hessian-vector product."""
    y = f(lib, x)
    w = lib.ones_like(y) * 0.5 + y.detach() * 0  # a constant weight of y's shape
    (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
    (h,) = lib.autograd.grad((g * v).sum(), x)
    return g.detach(), h


@pytest.mark.parametrize("name", list(UNARY))
def test_hessian_vector_products_match_torch(name, device):
    f, positive = UNARY[name]
    x0, v0 = _inputs((4, 5), 1, positive), _inputs((4, 5), 2)
    tx = x0.clone().requires_grad_()
    tg, th = _second_order(torch, f, tx, v0)
    vx = to_vt(x0, device).requires_grad_()
    vg, vh = _second_order(vt, f, vx, to_vt(v0, device))
    torch.testing.assert_close(to_torch(vg), tg, **TOL)
    torch.testing.assert_close(to_torch(vh), th, **TOL)


def _mlp(lib, w1, b1, w2, x):
    h = lib.nn.functional.linear(x, w1, b1).tanh()
    return lib.nn.functional.linear(h, w2)


def test_gradient_penalty_on_an_mlp_matches_torch(device):
    """WGAN-GP's penalty: ||d out / d x||^2 backpropagated to the weights (matmul, linear, tanh, sum)."""
    vals = [_inputs((6, 3), 3), _inputs((6,), 4), _inputs((1, 6), 5), _inputs((8, 3), 6)]

    def run(lib, conv):
        w1, b1, w2 = (conv(v).requires_grad_() for v in vals[:3])
        x = conv(vals[3]).requires_grad_()
        out = _mlp(lib, w1, b1, w2, x)
        (gx,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        penalty = ((gx * gx).sum(1) - 1.0).pow(2).mean()
        penalty.backward()
        return [w1.grad, b1.grad, w2.grad, x.grad]

    expected = run(torch, lambda v: v.clone())
    got = run(vt, lambda v: to_vt(v, device))
    for a, e in zip(got, expected):
        torch.testing.assert_close(to_torch(a), e, **TOL)


def test_backward_create_graph_gives_grad_with_history(device):
    """backward(create_graph=True) leaves a .grad that requires grad; differentiating it accumulates
    into the leaf's .grad as torch does (out-of-place, keeping both histories)."""
    def run(lib, conv):
        x = conv(_inputs((5,), 7)).requires_grad_()
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        (g * g).sum().backward()
        return x.grad

    with pytest.warns(UserWarning, match="reference cycle"):
        got = run(vt, lambda v: to_vt(v, device))
    with warnings.catch_warnings():  # torch warns once per process
        warnings.simplefilter("ignore")
        expected = run(torch, lambda v: v.clone())
    torch.testing.assert_close(to_torch(got), expected, **TOL)


def test_third_order(device):
    def run(lib, x):
        y = (x.sin() * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return t

    x0 = _inputs((6,), 8)
    expected = run(torch, x0.clone().requires_grad_())
    torch.testing.assert_close(to_torch(run(vt, to_vt(x0, device).requires_grad_())), expected, **TOL)


def test_a_backward_kernel_without_a_second_derivative_is_refused_by_name(device):
    x = to_vt(_inputs((3, 4), 9), device).requires_grad_()
    (g,) = vt.autograd.grad(F.softmax(x, -1)[:, 0].sum(), x, create_graph=False)
    assert not g.requires_grad  # first order is unaffected
    with pytest.raises(NotImplementedError, match=r"softmax_backward: differentiating through this backward kernel"):
        vt.autograd.grad(F.softmax(x, -1)[:, 0].sum(), x, create_graph=True)


def test_first_order_backward_records_nothing(device):
    x = to_vt(_inputs((4,), 10), device).requires_grad_()
    (x.exp() * x).sum().backward()
    assert not x.grad.requires_grad and x.grad.grad_fn is None
