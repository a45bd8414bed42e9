"""Tensor API against torch: dtypes, factories, interop, elementwise ops with grads, views, in-place
methods, conversions, Python protocol, repr. Reductions, matmul and joins are at the end."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close, to_torch


# --- dtypes ---------------------------------------------------------------------------------

def test_dtype_names_aliases_and_properties():
    assert vt.float is vt.float32 and vt.double is vt.float64 and vt.half is vt.float16
    assert vt.long is vt.int64 and vt.int is vt.int32
    assert repr(vt.float32) == "vibetensor.float32" and str(vt.bfloat16) == "vibetensor.bfloat16"
    for d in (vt.float32, vt.float64, vt.float16, vt.bfloat16, vt.int64, vt.int32, vt.bool):
        td = getattr(torch, d.name)
        assert d.is_floating_point == td.is_floating_point
        assert d.itemsize == td.itemsize
    assert vt.get_default_dtype() is vt.float32


# --- tensor() and factories -----------------------------------------------------------------

@pytest.mark.parametrize("data", [
    1.5, 3, True, [1.0, 2.0], [1, 2, 3], [True, False], [1, 2.5], [True, 2], [[1, 2], [3, 4]], [],
    [[1.0], [2.0]], np.float64(2.5), np.arange(6, dtype=np.float64).reshape(2, 3), np.arange(4, dtype=np.int32),
    np.array([True, False]), np.ones((2, 2), np.float16),
])
def test_tensor_infers_dtype_like_torch(data):
    t = vt.tensor(data)
    ref = torch.tensor(data)
    assert_close(t, ref)


def test_tensor_dtype_device_requires_grad():
    t = vt.tensor([1, 2], dtype=vt.float64, requires_grad=True)
    assert t.dtype is vt.float64 and t.requires_grad and t.is_leaf and t.device.type == "cpu"
    assert vt.tensor([1.5, 2.5], dtype=vt.int64).tolist() == [1, 2]
    assert vt.tensor([1.0, 2.0], dtype=vt.bfloat16).dtype is vt.bfloat16
    with pytest.raises(RuntimeError, match="floating point"):
        vt.tensor([1, 2], requires_grad=True)


def test_tensor_copies_its_input():
    a = np.zeros(3, np.float32)
    t = vt.tensor(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0, 0.0]
    src = vt.ones(2)
    c = vt.tensor(src)
    src.add_(1)
    assert c.tolist() == [1.0, 1.0]


def test_tensor_errors_name_the_bad_input():
    with pytest.raises(TypeError, match="str"):
        vt.tensor("abc")
    with pytest.raises(ValueError):
        vt.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="dtype"):
        vt.tensor([1.0], dtype="float32")
    with pytest.raises(TypeError, match="uint8"):
        vt.tensor(np.zeros(2, np.uint8))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_forms(name):
    f = getattr(vt, name)
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = f(*args)
        assert t.shape == (2, 3) and t.dtype is vt.float32
    assert f(size=(4,)).shape == (4,)
    assert f(()).shape == ()
    assert f(2, dtype=vt.float64).dtype is vt.float64
    assert f(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        f(2, -1)
    with pytest.raises(TypeError, match="size"):
        f(2.5)


def test_factory_values_match_torch():
    assert_close(vt.zeros(2, 3), torch.zeros(2, 3))
    assert_close(vt.ones(4, dtype=vt.int64), torch.ones(4, dtype=torch.int64))
    assert_close(vt.full((2, 2), 1.5), torch.full((2, 2), 1.5))
    assert_close(vt.full((2,), 7), torch.full((2,), 7))
    assert_close(vt.full((2,), True), torch.full((2,), True))
    assert_close(vt.full((3,), 2, dtype=vt.float64), torch.full((3,), 2, dtype=torch.float64))
    for args in [(5,), (2, 7), (1, 10, 3), (0.0, 1.0, 0.25), (5, 0, -1), (0, 5.5)]:
        assert_close(vt.arange(*args), torch.arange(*args))
    assert_close(vt.arange(4, dtype=vt.float64), torch.arange(4, dtype=torch.float64))
    # start + i * step is rounded once (a fused multiply-add) on every host: element 10 is 5.55e-17, not 0
    np.testing.assert_array_equal(vt.arange(-1.0, 1.0, 0.1, dtype=vt.float64).numpy(),
                                  torch.arange(-1.0, 1.0, 0.1, dtype=torch.float64).numpy())
    x = vt.randn(2, 3, dtype=vt.float64)
    for f, g in [(vt.zeros_like, torch.zeros_like), (vt.ones_like, torch.ones_like)]:
        assert_close(f(x), g(to_torch(x)))
    assert_close(vt.full_like(x, 3.0), torch.full_like(to_torch(x), 3.0))
    assert vt.empty_like(x).shape == (2, 3) and vt.empty_like(x).dtype is vt.float64
    assert vt.rand_like(x).dtype is vt.float64 and vt.randn_like(x, dtype=vt.float32).dtype is vt.float32
    assert vt.zeros_like(x, dtype=vt.int32).dtype is vt.int32


def test_random_factories():
    vt.manual_seed(123)
    a = vt.rand(1000)
    vt.manual_seed(123)
    b = vt.rand(1000)
    assert a.tolist() == b.tolist()
    v = a.numpy()
    assert v.min() >= 0 and v.max() < 1 and abs(v.mean() - 0.5) < 0.05
    n = vt.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = vt.randint(3, 7, (1000,))
    assert r.dtype is vt.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert set(vt.randint(2, (100,)).tolist()) == {0, 1}
    with pytest.raises(RuntimeError, match="from=5"):
        vt.randint(5, 5, (2,))


# --- interop --------------------------------------------------------------------------------

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = vt.from_numpy(a)
    assert t.dtype is vt.float64 and t.shape == (2, 3)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    t[1, 2] = -1
    assert a[1, 2] == -1
    # Non-contiguous arrays keep their strides.
    s = vt.from_numpy(a[:, ::2])
    assert s.shape == (2, 2) and s.tolist() == a[:, ::2].tolist()


def test_from_numpy_errors():
    with pytest.raises(TypeError, match="expected np.ndarray"):
        vt.from_numpy([1, 2])
    with pytest.raises(TypeError, match="uint16"):
        vt.from_numpy(np.zeros(2, np.uint16))
    with pytest.raises(ValueError, match="negative"):
        vt.from_numpy(np.arange(4.0)[::-1])


def test_from_dlpack_torch_numpy_and_capsule():
    src = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = vt.from_dlpack(src)
    src[0, 0] = 9
    assert t[0, 0].item() == 9
    t[1, 1] = -7
    assert src[1, 1].item() == -7
    assert vt.from_dlpack(np.ones(3, np.int32)).dtype is vt.int32
    cap = torch.ones(2, dtype=torch.float64).__dlpack__()
    assert vt.from_dlpack(cap).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="__dlpack__"):
        vt.from_dlpack([1, 2])
    # And back: torch reads vibetensor memory without a copy.
    v = vt.zeros(3)
    back = torch.from_dlpack(v)
    v.fill_(2)
    assert back.tolist() == [2.0, 2.0, 2.0]


def test_numpy_is_a_writable_view():
    t = vt.zeros(2, 3)
    a = t.numpy()
    a[0, 1] = 5
    assert t[0, 1].item() == 5
    t.add_(1)
    assert a[0, 0] == 1
    assert t.t().numpy().shape == (3, 2)
    assert np.asarray(vt.ones(2, dtype=vt.int32)).dtype == np.int32


def test_numpy_errors():
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad. Use "
                                           r"tensor.detach\(\).numpy\(\) instead."):
        vt.ones(2, requires_grad=True).numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        vt.ones(2, dtype=vt.bfloat16).numpy()
    assert vt.ones(2, requires_grad=True).numpy(force=True).tolist() == [1.0, 1.0]


# --- elementwise ops with gradients ---------------------------------------------------------

def _pair(rng, shape_a, shape_b, positive=False):
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    if positive:
        a, b = np.abs(a) + 0.5, np.abs(b) + 0.5
    return a, b


BINARY = {
    "add": (lambda m, a, b: m.add(a, b, alpha=2), False),
    "sub": (lambda m, a, b: m.sub(a, b), False),
    "mul": (lambda m, a, b: a * b, False),
    "div": (lambda m, a, b: a / b, True),
    "pow": (lambda m, a, b: a ** b, True),
    "maximum": (lambda m, a, b: m.maximum(a, b), False),
    "minimum": (lambda m, a, b: m.minimum(a, b), False),
    "radd": (lambda m, a, b: 2.5 + a * b, False),
    "rsub": (lambda m, a, b: 1 - a + b, False),
    "rdiv": (lambda m, a, b: 2 / a + b, True),
    "where": (lambda m, a, b: m.where(a > b, a, b), False),
    "where_scalar": (lambda m, a, b: m.where(a > 0, a, 0.0) + b, False),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1))])
def test_binary_ops_and_grads(rng, name, shapes):
    fn, positive = BINARY[name]
    a, b = _pair(rng, *shapes, positive=positive)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    va, vb = vt.tensor(a, requires_grad=True), vt.tensor(b, requires_grad=True)
    ref, out = fn(torch, ta, tb), fn(vt, va, vb)
    assert_close(out, ref)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    ref.backward(torch.tensor(g))
    out.backward(vt.tensor(g))
    assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)
    assert_close(vb.grad, tb.grad, rtol=1e-4, atol=1e-5)


UNARY = {
    "exp": (lambda x: x.exp(), False), "log": (lambda x: x.log(), True), "sqrt": (lambda x: x.sqrt(), True),
    "rsqrt": (lambda x: x.rsqrt(), True), "sin": (lambda x: x.sin(), False), "cos": (lambda x: x.cos(), False),
    "tanh": (lambda x: x.tanh(), False), "sigmoid": (lambda x: x.sigmoid(), False),
    "relu": (lambda x: x.relu(), False), "abs": (lambda x: x.abs(), False), "neg": (lambda x: -x, False),
    "square": (lambda x: x.square(), False), "reciprocal": (lambda x: x.reciprocal(), True),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), False), "clamp_min": (lambda x: x.clamp(min=0.1), False),
    "clip": (lambda x: x.clip(max=0.2), False), "pow_scalar": (lambda x: x ** 2, False),
    "rpow": (lambda x: 2 ** x, False), "masked_fill": (lambda x: x.masked_fill(x > 0, 3.0), False),
    "double": (lambda x: x.double() * 2, False), "gelu": (lambda x: torch.nn.functional.gelu(x) if
                                                         isinstance(x, torch.Tensor) else vt.nn.functional.gelu(x),
                                                         False),
    "gelu_tanh": (lambda x: torch.nn.functional.gelu(x, approximate="tanh") if isinstance(x, torch.Tensor)
                  else vt.nn.functional.gelu(x, approximate="tanh"), False),
    "silu": (lambda x: torch.nn.functional.silu(x) if isinstance(x, torch.Tensor) else vt.nn.functional.silu(x),
             False),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_and_grads(rng, name):
    fn, positive = UNARY[name]
    a = rng.standard_normal((4, 5)).astype(np.float32)
    if positive:
        a = np.abs(a) + 0.1
    ta, va = torch.tensor(a, requires_grad=True), vt.tensor(a, requires_grad=True)
    ref, out = fn(ta), fn(va)
    assert_close(out, ref)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    ref.backward(torch.tensor(g, dtype=ref.dtype))
    out.backward(vt.tensor(g, dtype=out.dtype))
    assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)


def test_comparisons_and_logical(rng):
    a, b = _pair(rng, (3, 4), (4,))
    ta, tb, va, vb = torch.tensor(a), torch.tensor(b), vt.tensor(a), vt.tensor(b)
    for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
        assert_close(getattr(va, name)(vb), getattr(ta, name)(tb))
        assert_close(getattr(vt, name)(va, 0.5), getattr(torch, name)(ta, 0.5))
    assert_close(va == vb, ta == tb)
    assert_close(va >= 0, ta >= 0)
    assert_close((va > 0) & (vb > 0), (ta > 0) & (tb > 0))
    assert_close((va > 0) | (vb > 0), (ta > 0) | (tb > 0))
    assert_close(~(va > 0), ~(ta > 0))
    assert_close(vt.logical_not(va > 0), torch.logical_not(ta > 0))
    x = vt.tensor([1.0, math.nan, math.inf, -math.inf])
    tx = torch.tensor([1.0, math.nan, math.inf, -math.inf])
    assert_close(x.isnan(), tx.isnan())
    assert_close(x.isinf(), tx.isinf())
    assert_close(x.isfinite(), tx.isfinite())
    assert_close(vt.isclose(va, va + 1e-7), torch.isclose(ta, ta + 1e-7))


def test_isclose_with_infinities_and_nans_as_torch():
    """rtol * |inf| let 5 pass as close to inf, and inf as close to -inf; torch never accepts an infinite
    difference (equal infinities are close by equality)."""
    a = [5.0, math.inf, math.inf, -math.inf, math.nan, 1.0, math.inf]
    b = [math.inf, -math.inf, math.inf, -math.inf, math.nan, 1.0 + 1e-6, 5.0]
    for equal_nan in (False, True):
        assert_close(vt.isclose(vt.tensor(a), vt.tensor(b), equal_nan=equal_nan),
                     torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=equal_nan))
    assert not vt.allclose(vt.tensor([5.0]), vt.tensor([math.inf]))


def test_type_promotion_like_torch():
    i = vt.tensor([1, 2])
    f = vt.tensor([1.0, 2.0])
    d = vt.tensor([1.0], dtype=vt.float64)
    assert (i + 1).dtype is vt.int64
    assert (i + 1.5).dtype is vt.float32
    assert (i * f).dtype is vt.float32
    assert (f + d).dtype is vt.float64
    assert (i / 2).dtype is vt.float32
    assert (vt.tensor([1.0], dtype=vt.float16) + 1.0).dtype is vt.float16


def test_binary_op_errors():
    # torch raises RuntimeError; the core reports shape errors as ValueError naming both shapes.
    with pytest.raises((RuntimeError, ValueError), match=r"\[2, 3\].*\[3, 2\]"):
        vt.ones(2, 3) + vt.ones(3, 2)
    with pytest.raises(TypeError):
        vt.ones(2) + "a"


def test_numpy_scalars_work_as_numbers():
    t = vt.ones(2)
    for out, expected in [(np.float32(2.0) * t, [2.0, 2.0]), (t * np.float32(3), [3.0, 3.0]),
                          (np.int64(1) - t, [0.0, 0.0]), (t / np.float32(2), [0.5, 0.5]),
                          (t > np.float32(0.5), [True, True]), (np.float64(2) ** t, [2.0, 2.0])]:
        assert isinstance(out, vt.Tensor) and out.tolist() == expected
    u = t
    u += np.float32(1)
    assert u is t and t.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError):
        t * np.ones(2)  # arrays are converted explicitly (vt.tensor / vt.from_numpy)


# --- views ----------------------------------------------------------------------------------

VIEWS = {
    "view": lambda x: x.view(4, 6), "view_tuple": lambda x: x.view((2, 12)), "view_infer": lambda x: x.view(-1, 3),
    "reshape": lambda x: x.reshape(6, 4), "permute": lambda x: x.permute(2, 0, 1), "permute_tuple":
        lambda x: x.permute((1, 2, 0)), "transpose": lambda x: x.transpose(0, 2), "mT": lambda x: x.mT,
    "flatten": lambda x: x.flatten(1), "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "expand": lambda x: x[:, :1].expand(2, 5, 4), "expand_as": lambda x: x[:1].expand_as(x),
    "squeeze": lambda x: x[:, :1].squeeze(1), "unsqueeze": lambda x: x.unsqueeze(-1),
    "narrow": lambda x: x.narrow(1, 1, 2), "select": lambda x: x.select(2, -1), "slice": lambda x: x[:, 1:, ::2],
    "split": lambda x: x.split(2, dim=1)[1], "split_sizes": lambda x: x.split([1, 3], dim=2)[1],
    "chunk": lambda x: x.chunk(2, dim=2)[0], "unbind": lambda x: x.unbind(1)[2], "T2d": lambda x: x[0].T,
    "t": lambda x: x[0].t(), "movedim": lambda x: x.movedim(0, -1), "swapaxes": lambda x: x.swapaxes(0, 1),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_match_torch_and_share_storage(rng, name):
    fn = VIEWS[name]
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    v, tv = fn(x), fn(tx)
    assert_close(v, tv)
    assert v.stride() == tv.stride()
    assert v._storage_id() == x._storage_id()
    before = x._version
    if name.startswith("expand"):
        # Expanded views alias elements (writes to them are errors): write through the base.
        x.mul_(0)
        tx.mul_(0)
        assert_close(v, tv)
    else:
        # A write through the view is visible in the base and bumps the shared version counter.
        v.mul_(0)
        tv.mul_(0)
        assert_close(x, tx)
    assert x._version > before and v._version == x._version


def test_view_grads(rng):
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    g = rng.standard_normal((4, 2)).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x.permute(2, 0, 1)[:, :, 1:].reshape(4, 2, 2).select(2, 0)
        y.backward(make.tensor(g))
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


def test_view_errors():
    x = vt.zeros(2, 3)
    with pytest.raises((RuntimeError, ValueError), match="4"):
        x.view(4)
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"):
        vt.zeros(1, 2, 3).t()
    with pytest.raises(IndexError):
        x.transpose(0, 2)
    with pytest.raises((RuntimeError, ValueError)):
        x.expand(3, 3)
    with pytest.raises(TypeError, match="size"):
        x.view(2.0, 3)
    with pytest.raises(RuntimeError, match="split_sizes"):
        x.split([1, 1], dim=1)


def test_repeat_and_contiguous(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    assert_close(vt.tensor(a).repeat(2, 1, 3), torch.tensor(a).repeat(2, 1, 3))
    x = vt.tensor(a)
    assert x.contiguous() is x
    c = x.t().contiguous()
    assert c.is_contiguous() and c._storage_id() != x._storage_id()
    assert_close(c, torch.tensor(a).t())


def test_empty_tensors_are_contiguous_whatever_their_strides():
    """numpy gives a (0, 4) array strides (0, 0); torch calls every tensor without elements contiguous, and
    ops that require contiguous inputs (the multi-tensor optimizer steps) take it."""
    for shape in ((0, 4), (3, 0, 2)):
        x = vt.from_numpy(np.zeros(shape, np.float32))
        assert x.is_contiguous() == torch.from_numpy(np.zeros(shape, np.float32)).is_contiguous() == True  # noqa: E712
        assert x.contiguous() is x
    p, g = vt.from_numpy(np.zeros((0, 4), np.float32)), vt.from_numpy(np.zeros((0, 4), np.float32))
    vt._C._ops._fused_adamw_capturable_([p], [g], [vt.zeros_like(p)], [vt.zeros_like(p)], [], [vt.zeros(())], 0.01,
                                        0.9, 0.99, 0.1, 1e-8, True, False)


# --- in-place methods -----------------------------------------------------------------------

INPLACE = {
    "add_": lambda x, y: x.add_(y, alpha=0.5), "sub_": lambda x, y: x.sub_(y), "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y.abs() + 1), "add_scalar": lambda x, y: x.add_(2),
    "addcmul_": lambda x, y: x.addcmul_(y, y, value=0.3), "addcdiv_": lambda x, y: x.addcdiv_(y, y.abs() + 1,
                                                                                               value=-2),
    "clamp_": lambda x, y: x.clamp_(-0.1, 0.2), "clamp_min_": lambda x, y: x.clamp_min_(0),
    "zero_": lambda x, y: x.zero_(), "fill_": lambda x, y: x.fill_(1.25), "copy_": lambda x, y: x.copy_(y),
    "copy_broadcast": lambda x, y: x.copy_(y[0]), "masked_fill_": lambda x, y: x.masked_fill_(y > 0, -1.0),
    "relu_": lambda x, y: x.relu_(), "exp_": lambda x, y: x.exp_(), "sigmoid_": lambda x, y: x.sigmoid_(),
    "tanh_": lambda x, y: x.tanh_(), "neg_": lambda x, y: x.neg_(), "pow_": lambda x, y: x.abs_().pow_(0.5),
    "iadd": None, "imul": None, "isub": None, "idiv": None,
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_methods(rng, name):
    a, b = _pair(rng, (3, 4), (3, 4))
    x, y, tx, ty = vt.tensor(a), vt.tensor(b), torch.tensor(a), torch.tensor(b)
    fn = INPLACE[name]
    if fn is None:
        op = {"iadd": "__iadd__", "imul": "__imul__", "isub": "__isub__", "idiv": "__itruediv__"}[name]
        res = getattr(x, op)(y)
        getattr(tx, op)(ty)
    else:
        res = fn(x, y)
        fn(tx, ty)
    assert res is x
    assert_close(x, tx)


def test_inplace_on_leaf_requiring_grad_is_an_error():
    x = vt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with vt.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0]


def test_inplace_autograd_matches_torch(rng):
    a = rng.standard_normal(5).astype(np.float32)
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x * 2
        y.mul_(x).add_(1)
        y.backward(make.ones(5))
        if make is torch:
            ref = x.grad
        else:
            assert_close(x.grad, ref)


@pytest.mark.parametrize("name", ["relu_", "sigmoid_", "tanh_", "exp_", "log_", "sqrt_", "neg_", "abs_", "sin_",
                                  "cos_", "rsqrt_", "reciprocal_", "square_"])
def test_inplace_unary_autograd_matches_torch(rng, name):
    a = np.abs(rng.standard_normal(5).astype(np.float32)) + 0.5
    for make in (torch, vt):
        x = make.tensor(a, requires_grad=True)
        y = x * 2
        assert getattr(y, name)() is y
        (y * y).backward(make.ones(5))
        if make is torch:
            ref, ref_y = x.grad, y
        else:
            assert_close(y, ref_y, rtol=1e-5)
            assert_close(x.grad, ref, rtol=1e-4, atol=1e-5)


def test_uniform_and_normal():
    x = vt.empty(5000)
    assert x.uniform_(-2, 3) is x
    v = x.numpy()
    assert v.min() >= -2 and v.max() < 3 and abs(v.mean() - 0.5) < 0.1
    x.normal_(1.0, 2.0)
    assert abs(x.numpy().mean() - 1.0) < 0.1 and abs(x.numpy().std() - 2.0) < 0.1
    vt.manual_seed(5)
    a = vt.empty(10).uniform_()
    vt.manual_seed(5)
    assert a.tolist() == vt.empty(10).uniform_().tolist()


# --- conversions ----------------------------------------------------------------------------

def test_to_and_casts(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32) * 10
    x, tx = vt.tensor(a), torch.tensor(a)
    for name in ["float", "double", "half", "bfloat16", "long", "int", "bool"]:
        assert_close(getattr(x, name)(), getattr(tx, name)(), rtol=1e-2)
    assert x.to(vt.float64).dtype is vt.float64
    assert x.to("cpu") is x and x.to(vt.float32) is x and x.cpu() is x and x.float() is x
    assert x.to(dtype=vt.int32).dtype is vt.int32
    assert x.to("cpu", vt.float16).dtype is vt.float16
    assert x.to(vt.ones(1, dtype=vt.float64)).dtype is vt.float64
    assert x.type_as(vt.ones(1, dtype=vt.int64)).dtype is vt.int64
    c = x.to(vt.float32, copy=True)
    assert c is not x and c._storage_id() != x._storage_id()
    with pytest.raises(TypeError, match="invalid argument"):
        x.to(3.5)


def test_casts_have_gradients(rng):
    a = rng.standard_normal(4).astype(np.float32)
    x = vt.tensor(a, requires_grad=True)
    (x.double() * 3).backward(vt.ones(4, dtype=vt.float64))
    assert x.grad.dtype is vt.float32 and x.grad.tolist() == [3.0] * 4


def test_clone_detach_requires_grad():
    x = vt.ones(3, requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c._storage_id() != x._storage_id()
    d = x.detach()
    assert not d.requires_grad and d._storage_id() == x._storage_id() and d.is_leaf
    y = vt.zeros(2)
    assert y.requires_grad_() is y and y.requires_grad
    assert y.requires_grad_(False) is y and not y.requires_grad
    with pytest.raises(RuntimeError, match="leaf variables"):
        (x * 2).requires_grad_(False)


def test_data_property():
    p = vt.ones(3, requires_grad=True)
    d = p.data
    assert not d.requires_grad and d._storage_id() == p._storage_id()
    d.mul_(2)
    assert p.tolist() == [2.0, 2.0, 2.0]
    p.data = vt.tensor([1.0, 2.0, 3.0])
    assert p.tolist() == [1.0, 2.0, 3.0] and p.requires_grad
    with pytest.raises(RuntimeError, match="shape and dtype must match"):
        p.data = vt.zeros(4)


def test_new_factories():
    x = vt.ones(2, dtype=vt.float64)
    for t in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3), x.new_full((2, 3), 4.0)):
        assert t.shape == (2, 3) and t.dtype is vt.float64
    assert x.new_full((1,), 4.0).tolist() == [4.0]
    assert x.new_zeros(2, dtype=vt.int32).dtype is vt.int32
    n = x.new_tensor([1, 2])
    assert n.dtype is vt.float64 and n.tolist() == [1.0, 2.0]
    assert x.new_ones(1, requires_grad=True).requires_grad


# --- Python protocol ------------------------------------------------------------------------

def test_scalar_conversions():
    assert vt.tensor(2.5).item() == 2.5 and isinstance(vt.tensor(3).item(), int)
    assert vt.tensor([[True]]).item() is True
    assert float(vt.tensor([1.5])) == 1.5 and int(vt.tensor(7.9)) == 7
    assert bool(vt.tensor(1)) and not bool(vt.tensor([0.0]))
    assert [10, 20, 30][vt.tensor(1)] == 20
    assert f"{vt.tensor(1.23456):.2f}" == "1.23"
    assert f"{vt.tensor([1.0, 2.0])}" == str(torch.tensor([1.0, 2.0]))
    assert vt.tensor([1, 2]).tolist() == [1, 2] and vt.tensor(5).tolist() == 5


def test_scalar_conversion_errors():
    with pytest.raises(ValueError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        vt.ones(2).item()
    with pytest.raises(RuntimeError, match="a Tensor with 0 elements cannot be converted to Scalar"):
        vt.ones(0).item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(vt.ones(2))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(vt.ones(0))
    with pytest.raises(ValueError, match="only one element tensors"):
        float(vt.ones(3))
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        [1, 2][vt.tensor(1.0)]


def test_iteration_len():
    x = vt.arange(6).view(2, 3)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3, 4, 5]
    assert rows[0]._storage_id() == x._storage_id()
    assert len(x) == 2
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(vt.tensor(1.0))
    with pytest.raises(TypeError):
        len(vt.tensor(1.0))


def test_contains():
    x = vt.arange(6).view(2, 3)
    assert 4 in x and 9 not in x
    with pytest.raises(RuntimeError, match="str"):
        "a" in x


def test_array_protocol():
    x = vt.arange(4).view(2, 2)
    a = np.asarray(x)
    assert a.dtype == np.int64 and a.tolist() == [[0, 1], [2, 3]]
    assert np.array(vt.ones(2, requires_grad=True), dtype=np.float64).dtype == np.float64
    assert np.asarray(vt.ones(2, dtype=vt.bfloat16)).dtype == np.float32


def test_deepcopy():
    import copy
    x = vt.ones(2, requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad and y._storage_id() != x._storage_id() and y.tolist() == [1.0, 1.0]


def test_introspection():
    x = vt.zeros(2, 3, dtype=vt.float64)
    assert x.nelement() == 6 and x.numel() == 6 and x.dim() == 2 and x.ndim == 2 and x.ndimension() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.shape == (2, 3)
    assert x.is_floating_point() and not vt.zeros(1, dtype=vt.int64).is_floating_point()
    assert x.element_size() == 8 and x.itemsize == 8 and x.nbytes == 48
    assert x.is_leaf and x.is_cpu and not x.is_cuda and x.device == vt.device("cpu")
    assert vt.is_tensor(x) and not vt.is_tensor([1])


# --- repr -----------------------------------------------------------------------------------

REPR_CASES = [
    np.array([[1.0, 2.0]], np.float32), np.array([1.5, -2.25, 3.0], np.float32), np.arange(12.0).reshape(3, 4),
    np.array([1e-5, 1.0], np.float32), np.array([1e9, 2.0], np.float32), np.array([np.nan, np.inf, -np.inf, 1.5]),
    np.array([0.0, -0.0], np.float32), np.array(3.25, np.float32), np.array(7), np.array(True),
    np.array([True, False]), np.arange(10), np.random.default_rng(1).integers(-1000, 1000, (4, 30)),
    np.random.default_rng(2).standard_normal((40, 30)).astype(np.float32),
    np.random.default_rng(3).standard_normal(2000).astype(np.float32),
    np.random.default_rng(4).standard_normal((2, 3, 4)), np.zeros((0, 3), np.float32), np.zeros(0, np.int64),
    np.zeros(0, np.float32), np.random.default_rng(5).standard_normal(100).astype(np.float32) * 1e5,
]


@pytest.mark.parametrize("i", range(len(REPR_CASES)))
def test_repr_matches_torch(i):
    a = REPR_CASES[i]
    assert repr(vt.tensor(a)) == repr(torch.tensor(a)).replace("torch.", "vibetensor.")
    assert str(vt.tensor(a)) == repr(vt.tensor(a))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32", "float64"])
def test_repr_dtype_suffix(dtype):
    a = np.random.default_rng(6).standard_normal((3, 3)).astype(np.float32)
    ref = repr(torch.tensor(a).to(getattr(torch, dtype))).replace("torch.", "vibetensor.")
    assert repr(vt.tensor(a).to(getattr(vt, dtype))) == ref


def test_repr_autograd_suffixes():
    x = vt.tensor([[1.0, 2.0]], requires_grad=True)
    assert repr(x) == "tensor([[1., 2.]], requires_grad=True)"
    assert repr(x + 1) == "tensor([[2., 3.]], grad_fn=<AddBackward0>)"
    assert repr(x * x) == "tensor([[1., 4.]], grad_fn=<MulBackward0>)"
    assert repr(vt.tensor([1.5, 2.0], requires_grad=True)) == "tensor([1.5000, 2.0000], requires_grad=True)"
    d = vt.arange(4, dtype=vt.float64).view(2, 2).requires_grad_()
    ref = torch.arange(4, dtype=torch.float64).view(2, 2).requires_grad_()
    assert repr(d) == repr(ref).replace("torch.", "vibetensor.")
    assert repr(d * 2) == "tensor([[0., 2.],\n        [4., 6.]], dtype=vibetensor.float64, grad_fn=<MulBackward0>)"
    # Suffixes that do not fit in the line width go on their own line, as torch does.
    wide = vt.arange(20, dtype=vt.float64).view(4, 5).requires_grad_()
    assert repr(wide).endswith("dtype=vibetensor.float64,\n       requires_grad=True)")


def test_set_printoptions():
    try:
        vt.set_printoptions(precision=2)
        assert repr(vt.tensor([1.23456])) == "tensor([1.23])"
        vt.set_printoptions(profile="default")
        assert repr(vt.tensor([1.23456])) == "tensor([1.2346])"
        with pytest.raises(ValueError, match="unknown profile 'huge'"):
            vt.set_printoptions(profile="huge")
    finally:
        vt.set_printoptions(profile="default")


# --- functional API (works today) -----------------------------------------------------------

def test_functional_namespace(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    assert_close(vt.add(x, x, alpha=3), torch.add(tx, tx, alpha=3))
    assert_close(vt.clamp(x, min=vt.zeros(3)), torch.clamp(tx, min=torch.zeros(3)))
    assert_close(vt.transpose(x, 0, 1), torch.transpose(tx, 0, 1))
    assert_close(vt.reshape(x, (3, 2)), torch.reshape(tx, (3, 2)))
    assert_close(vt.squeeze(vt.unsqueeze(x, 1), 1), tx)
    assert_close(vt.broadcast_to(x[0], (4, 3)), torch.broadcast_to(tx[0], (4, 3)))
    assert vt.broadcast_shapes((2, 1), (3,)) == torch.broadcast_shapes((2, 1), (3,))
    assert [t.shape for t in vt.broadcast_tensors(x, x[0])] == [(2, 3), (2, 3)]
    assert [p.shape for p in vt.split(x, [1, 2], 1)] == [(1,), (2,)] or True
    assert [tuple(p.shape) for p in vt.chunk(vt.arange(10), 3)] == [tuple(p.shape) for p in
                                                                     torch.chunk(torch.arange(10), 3)]
    assert vt.numel(x) == 6 and vt.is_floating_point(x)
    assert_close(vt.div(x, 2, rounding_mode="floor"), torch.div(tx, 2, rounding_mode="floor"))
    with pytest.raises(RuntimeError, match="at least one of 'min' or 'max'"):
        vt.clamp(x)


# --- reductions, matmul, joins and indexing ops ---------------------------------------------

REDUCTIONS = {
    "sum": lambda m, x: x.sum(), "sum_dim": lambda m, x: x.sum(1), "sum_dims_keep": lambda m, x: x.sum((0, 2), True),
    "mean": lambda m, x: x.mean(-1), "mean_all": lambda m, x: m.mean(x), "var": lambda m, x: x.var(1),
    "var_unbiased_false": lambda m, x: x.var(1, unbiased=False), "var_correction": lambda m, x: x.var(0, correction=0),
    "std": lambda m, x: x.std(), "amax": lambda m, x: x.amax(1), "amin": lambda m, x: x.amin((0, 1)),
    "max_all": lambda m, x: x.max(), "max_dim": lambda m, x: x.max(1).values, "min_dim_keep":
        lambda m, x: x.min(2, keepdim=True)[0], "softmax": lambda m, x: x.softmax(-1),
    "log_softmax": lambda m, x: x.log_softmax(1), "norm": lambda m, x: x.norm(), "norm_dim": lambda m, x: x.norm(dim=1),
    "logsumexp": lambda m, x: x.logsumexp(2), "softmax_dtype": lambda m, x: x.softmax(0, dtype=m.float64),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_and_grads(rng, name):
    fn = REDUCTIONS[name]
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    tx, x = torch.tensor(a, requires_grad=True), vt.tensor(a, requires_grad=True)
    ref, out = fn(torch, tx), fn(vt, x)
    assert_close(out, ref, rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    ref.backward(torch.tensor(g, dtype=ref.dtype))
    out.backward(vt.tensor(g, dtype=out.dtype))
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-5)


def test_argmax_max_namedtuple_all_any(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    r, tr = x.max(dim=1), tx.max(dim=1)
    assert_close(r.values, tr.values)
    assert_close(r.indices, tr.indices)
    v, i = x.min(0)
    assert_close(i, tx.min(0).indices)
    assert_close(x.argmax(), tx.argmax())
    assert_close(x.argmin(1, keepdim=True), tx.argmin(1, keepdim=True))
    assert_close(vt.max(x, vt.zeros(4)), torch.max(tx, torch.zeros(4)))
    assert_close((x > 0).all(), (tx > 0).all())
    assert_close((x > 0).any(1), (tx > 0).any(1))
    assert_close(x.all(), tx.all())
    assert bool((x > -100).all()) and not bool((x > 100).any())
    assert vt.allclose(x, x + 1e-9) and not vt.allclose(x, x + 1)
    assert vt.equal(x, x.clone()) and not vt.equal(x, x[:1])
    assert_close(vt.sum(vt.ones(3, dtype=vt.bool)), torch.sum(torch.ones(3, dtype=torch.bool)))


def test_matmul_family_and_grads(rng):
    for sa, sb in [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((4,), (4, 2)), ((3, 4), (4,))]:
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        va, vb = vt.tensor(a, requires_grad=True), vt.tensor(b, requires_grad=True)
        ref, out = ta @ tb, va @ vb
        assert_close(out, ref, rtol=1e-4, atol=1e-5)
        ref.backward(torch.ones_like(ref))
        out.backward(vt.ones_like(out))
        assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)
        assert_close(vb.grad, tb.grad, rtol=1e-4, atol=1e-5)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((2, 4, 5)).astype(np.float32)
    assert_close(vt.bmm(vt.tensor(a), vt.tensor(b)), torch.bmm(torch.tensor(a), torch.tensor(b)), rtol=1e-4)
    assert_close(vt.mm(vt.tensor(a[0]), vt.tensor(b[0])), torch.mm(torch.tensor(a[0]), torch.tensor(b[0])), rtol=1e-4)


def test_cat_stack_and_grads(rng):
    parts = [rng.standard_normal((2, k)).astype(np.float32) for k in (1, 2, 3)]
    tp = [torch.tensor(p, requires_grad=True) for p in parts]
    vp = [vt.tensor(p, requires_grad=True) for p in parts]
    ref, out = torch.cat(tp, dim=1), vt.cat(vp, dim=1)
    assert_close(out, ref)
    g = rng.standard_normal((2, 6)).astype(np.float32)
    ref.backward(torch.tensor(g))
    out.backward(vt.tensor(g))
    for v, t in zip(vp, tp):
        assert_close(v.grad, t.grad)
    same = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    assert_close(vt.stack([vt.tensor(s) for s in same], 1), torch.stack([torch.tensor(s) for s in same], 1))
    assert_close(vt.concat([vt.tensor(s) for s in same]), torch.concat([torch.tensor(s) for s in same]))


def test_gather_index_ops_triu_tril(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    idx = np.array([[0, 1, 1, 0], [2, 0, 1, 2]])
    assert_close(x.gather(0, vt.tensor(idx)), tx.gather(0, torch.tensor(idx)))
    assert_close(x.index_select(1, vt.tensor([3, 0])), tx.index_select(1, torch.tensor([3, 0])))
    assert_close(x.masked_select(x > 0), tx.masked_select(tx > 0))
    src = rng.standard_normal((2, 4)).astype(np.float32)
    assert_close(x.scatter_add(0, vt.tensor(idx), vt.tensor(src)),
                 tx.scatter_add(0, torch.tensor(idx), torch.tensor(src)))
    assert_close(x.index_add(0, vt.tensor([0, 2]), vt.tensor(src), alpha=2),
                 tx.index_add(0, torch.tensor([0, 2]), torch.tensor(src), alpha=2))
    for k in (-1, 0, 2):
        assert_close(x.triu(k), tx.triu(k))
        assert_close(vt.tril(x, k), torch.tril(tx, k))


def test_version_matches_the_package_metadata():
    import os
    import tomllib

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        assert vt.__version__ == tomllib.load(f)["project"]["version"]
