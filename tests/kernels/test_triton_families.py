"""The kernel suite of kernels/triton/ (softmax, layer_norm, rms_norm, cross_entropy, gelu, rotary, matmul,
elementwise) against torch.

Every kernel runs under Triton's CPU interpreter (conftest.py) with the grid and constexprs its
config_* function gives, on rows with padding between them (row stride > n_cols), odd n_cols and
n_rows that are not multiples of ROWS; the looped path (n_cols > 8192) runs once per family at 9000
columns and at small sizes with a forced small BLOCK. Backward results are compared with
torch.autograd. test_compiles_to_sm90 compiles every KERNELS entry to an sm_90 cubin (no GPU needed),
in a subprocess without TRITON_INTERPRET."""
import inspect
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
triton = pytest.importorskip("triton")

from _families import FAMILIES, interpreted_family  # noqa: E402  (after the skips: it needs neither, the kernels do)
F = torch.nn.functional
# masked-off rows reduce -inf fills (-inf - -inf) and tanh's exp(2u) overflows to inf by design; numpy warns
pytestmark = [pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]

DTYPES = ["float32", "bfloat16", "float16"]
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "bfloat16": dict(rtol=1e-2, atol=1e-2),
       "float16": dict(rtol=1e-3, atol=1e-3)}
# (n_rows, n_cols): n_cols from the odd to the looped (> 8192); n_rows not multiples of ROWS
SHAPES = [(3, 1), (37, 36), (5, 100), (19, 128), (40, 256), (7, 1000), (3, 4097), (2, 9000)]
# a forced looped path at small sizes: several column steps and a ragged last one
LOOPED = {"ROWS": 1, "BLOCK": 64, "SINGLE": False, "num_warps": 4}
# a pointer whose flag is off: the C++ launcher passes null, the interpreter needs a tensor to offset
UNUSED = torch.empty(1)
N_SMS = 1  # few programs, so the backward kernels' programs walk several row tiles each


def params(shapes=SHAPES):
    cases = [pytest.param(d, s, None, id=f"{d}-{s[0]}x{s[1]}") for d in DTYPES for s in shapes]
    cases += [pytest.param(d, (5, 300), LOOPED, id=f"{d}-5x300-looped") for d in DTYPES]
    return cases


def rows(n_rows, n_cols, dtype, pad=3, scale=1.0, seed=0):
    """A [n_rows, n_cols] view whose rows lie `pad` elements apart beyond n_cols."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n_rows, n_cols + pad, generator=g) * scale
    return base.to(getattr(torch, dtype))[:, :n_cols]


def empty_rows(n_rows, n_cols, dtype, pad=5):
    return torch.full((n_rows, n_cols + pad), float("nan"), dtype=getattr(torch, dtype))[:, :n_cols]


def launch(fn, grid, args, config, constexprs):
    """fn[grid](*args, *constexpr values), with num_warps from the config (ignored by the interpreter)."""
    fn[grid](*args, *[config[k] if k in config else v for k, v in constexprs.items()])


def check(actual, expected, dtype):
    torch.testing.assert_close(actual.double(), expected.double(), **TOL[dtype], equal_nan=False)


def grad_of(fn, inputs, grad_output):
    """torch.autograd gradients of fn(*inputs) for grad_output, in float64 (an fp32 reference's own rounding,
    scaled by rstd = 1/sqrt(eps) on constant rows, would exceed the fp32 tolerance)."""
    leaves = [t.detach().double().requires_grad_() for t in inputs]
    fn(*leaves).backward(grad_output.double())
    return [t.grad for t in leaves]


def cdiv(a, b):
    return (a + b - 1) // b


# ----- softmax -----

@pytest.mark.parametrize("dtype,shape,override", params())
@pytest.mark.parametrize("log", [0, 1])
def test_softmax(dtype, shape, override, log):
    m = interpreted_family("softmax")
    n_rows, n_cols = shape
    c = override or (m.config_log_softmax_fwd if log else m.config_softmax_fwd)(n_cols)
    grid = (cdiv(n_rows, c["ROWS"]),)
    ref_fn = (lambda t: torch.log_softmax(t, -1)) if log else (lambda t: torch.softmax(t, -1))
    x = rows(n_rows, n_cols, dtype, scale=3.0)
    y = empty_rows(n_rows, n_cols, dtype)
    launch(m.KERNELS["log_softmax_fwd" if log else "softmax_fwd"], grid,
           (x, y, n_rows, n_cols, x.stride(0), y.stride(0)), c, {"LOG": log, "ROWS": 0, "BLOCK": 0, "SINGLE": 0})
    check(y, ref_fn(x.float()), dtype)

    g = rows(n_rows, n_cols, dtype, seed=1)
    gi = empty_rows(n_rows, n_cols, dtype, pad=2)
    c = override or (m.config_log_softmax_bwd if log else m.config_softmax_bwd)(n_cols)
    launch(m.KERNELS["log_softmax_bwd" if log else "softmax_bwd"], grid,
           (y, g, gi, n_rows, n_cols, y.stride(0), g.stride(0), gi.stride(0)), c,
           {"LOG": log, "ROWS": 0, "BLOCK": 0, "SINGLE": 0})
    # torch's autograd saves y too: its backward kernel on the same (rounded) y is the reference
    backward = torch.ops.aten._log_softmax_backward_data if log else torch.ops.aten._softmax_backward_data
    check(gi, backward(g.float(), y.float(), -1, torch.float32), dtype)
    if dtype == "float32":
        (expected,) = grad_of(ref_fn, [x], g)
        check(gi, expected, dtype)


# ----- layer_norm / rms_norm -----

def norm_inputs(n_rows, n_cols, dtype):
    x = rows(n_rows, n_cols, dtype, scale=2.0) + 0.5
    w = rows(1, n_cols, dtype, pad=0, seed=2)[0] + 1.0
    b = rows(1, n_cols, dtype, pad=0, seed=3)[0]
    dy = rows(n_rows, n_cols, dtype, seed=4)
    return x, w, b, dy


def column_sums(partial, dtype):
    m = interpreted_family("layer_norm")
    n_part_rows, n_cols = partial.shape
    out = torch.full((n_cols,), float("nan"), dtype=getattr(torch, dtype))
    c = m.config_norm_bwd_dwdb(n_cols)
    launch(m.KERNELS["norm_bwd_dwdb"], (cdiv(n_cols, c["BLOCK_C"]),), (partial, out, n_part_rows, n_cols), c,
           {"BLOCK_R": 0, "BLOCK_C": 0})
    return out


@pytest.mark.parametrize("dtype,shape,override", params())
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)], ids=["wb", "w", "none"])
def test_layer_norm(dtype, shape, override, affine):
    m = interpreted_family("layer_norm")
    has_w, has_b = affine
    n_rows, n_cols = shape
    eps = 1e-5
    x, w, b, dy = norm_inputs(n_rows, n_cols, dtype)
    y = empty_rows(n_rows, n_cols, dtype)
    mean = torch.empty(n_rows)
    rstd = torch.empty(n_rows)
    c = override or m.config_layer_norm_fwd(n_cols)
    flags = {"HAS_WEIGHT": has_w, "HAS_BIAS": has_b, "ROWS": 0, "BLOCK": 0, "SINGLE": 0}
    launch(m.KERNELS["layer_norm_fwd"], (cdiv(n_rows, c["ROWS"]),),
           (x, w if has_w else UNUSED, b if has_b else UNUSED, y, mean, rstd, n_rows, n_cols, x.stride(0), y.stride(0), eps),
           c, flags)

    def ref(x, w, b):
        return F.layer_norm(x, (n_cols,), w if has_w else None, b if has_b else None, eps)

    check(y, ref(x.float(), w.float(), b.float()), dtype)
    xf = x.float()
    torch.testing.assert_close(mean, xf.mean(-1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(rstd, torch.rsqrt(xf.var(-1, unbiased=False) + eps), rtol=1e-4, atol=1e-5)

    c = dict(override, n_programs=2) if override else m.config_layer_norm_bwd_dx(n_rows, n_cols, N_SMS)
    P = c["n_programs"]
    dx = empty_rows(n_rows, n_cols, dtype)
    dw_part = torch.full((P, n_cols), float("nan"))
    db_part = torch.full((P, n_cols), float("nan"))
    launch(m.KERNELS["layer_norm_bwd_dx"], (P,),
           (x, w if has_w else UNUSED, dy, mean, rstd, dx, dw_part if has_w else UNUSED, db_part if has_b else UNUSED,
            n_rows, n_cols, x.stride(0), dy.stride(0), dx.stride(0), P), c, flags)
    gx, gw, gb = grad_of(ref, [x, w, b], dy)
    check(dx, gx, dtype)
    if has_w:
        check(column_sums(dw_part, dtype), gw, dtype)
    if has_b:
        check(column_sums(db_part, dtype), gb, dtype)


@pytest.mark.parametrize("dtype,shape,override", params())
@pytest.mark.parametrize("has_w", [True, False], ids=["w", "none"])
def test_rms_norm(dtype, shape, override, has_w):
    m = interpreted_family("rms_norm")
    n_rows, n_cols = shape
    eps = torch.finfo(getattr(torch, dtype)).eps  # what the adapter passes for eps=None
    x, w, _, dy = norm_inputs(n_rows, n_cols, dtype)
    y = empty_rows(n_rows, n_cols, dtype)
    rstd = torch.empty(n_rows)
    c = override or m.config_rms_norm_fwd(n_cols)
    flags = {"HAS_WEIGHT": has_w, "ROWS": 0, "BLOCK": 0, "SINGLE": 0}
    launch(m.KERNELS["rms_norm_fwd"], (cdiv(n_rows, c["ROWS"]),),
           (x, w if has_w else UNUSED, y, rstd, n_rows, n_cols, x.stride(0), y.stride(0), eps), c, flags)

    def ref(x, w):
        return F.rms_norm(x, (n_cols,), w if has_w else None, eps)

    check(y, ref(x.float(), w.float()), dtype)
    if dtype != "float32":  # torch's own low-precision rms_norm, eps=None, rounds like the kernel
        check(y, F.rms_norm(x, (n_cols,), w if has_w else None), dtype)

    c = dict(override, n_programs=2) if override else m.config_rms_norm_bwd_dx(n_rows, n_cols, N_SMS)
    P = c["n_programs"]
    dx = empty_rows(n_rows, n_cols, dtype)
    dw_part = torch.full((P, n_cols), float("nan"))
    launch(m.KERNELS["rms_norm_bwd_dx"], (P,),
           (x, w if has_w else UNUSED, dy, rstd, dx, dw_part if has_w else UNUSED, n_rows, n_cols, x.stride(0),
            dy.stride(0), dx.stride(0), P), c, flags)
    gx, gw = grad_of(ref, [x, w], dy)
    check(dx, gx, dtype)
    if has_w:
        check(column_sums(dw_part, dtype), gw, dtype)


# ----- cross_entropy -----

@pytest.mark.parametrize("dtype,shape,override", params(SHAPES + [(3, 20000)]))
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_cross_entropy(dtype, shape, override, reduction):
    m = interpreted_family("cross_entropy")
    n_rows, n_cols = shape
    ignore = -100
    x = rows(n_rows, n_cols, dtype, scale=4.0)
    g = torch.Generator().manual_seed(5)
    target = torch.randint(0, n_cols, (n_rows,), generator=g)
    target[::3] = ignore  # rows 0, 3, 6, ... ignored
    loss = torch.full((n_rows,), float("nan"))
    lse = torch.full((n_rows,), float("nan"))
    c = override or m.config_cross_entropy_fwd(n_cols)
    grid = (cdiv(n_rows, c["ROWS"]),)
    bad = torch.zeros(2, dtype=torch.int64)
    launch(m.KERNELS["cross_entropy_fwd"], grid, (x, target, loss, lse, bad, n_rows, n_cols, x.stride(0), ignore), c,
           {"CHECK": 1, "ROWS": 0, "BLOCK": 0, "SINGLE": 0})
    assert bad.tolist() == [0, 0]  # every target is in range or ignored
    xf = x.float()
    torch.testing.assert_close(loss, F.cross_entropy(xf, target, ignore_index=ignore, reduction="none"),
                               rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(lse, torch.logsumexp(xf, -1), rtol=1e-5, atol=1e-5)

    count = int((target != ignore).sum())
    if reduction == "none":
        dloss, dloss_stride, scale = rows(1, n_rows, "float32", pad=0, seed=6)[0].contiguous(), 1, 1.0
        grad_output = dloss
    else:  # 'mean': the scalar gradient broadcast (stride 0), divided by the count through `scale`
        dloss, dloss_stride, scale = torch.tensor([0.75]), 0, 1.0 / max(count, 1)
        grad_output = torch.tensor(0.75)
    dx = empty_rows(n_rows, n_cols, dtype)
    c = dict(override) if override else m.config_cross_entropy_bwd(n_cols)
    launch(m.KERNELS["cross_entropy_bwd"], grid,
           (x, target, lse, dloss, dx, n_rows, n_cols, x.stride(0), dx.stride(0), dloss_stride, ignore, scale), c,
           {"ROWS": 0, "BLOCK": 0})
    (expected,) = grad_of(lambda t: F.cross_entropy(t, target, ignore_index=ignore, reduction=reduction), [x],
                          grad_output)
    check(dx, expected, dtype)


@pytest.mark.parametrize("check", [0, 1], ids=["nocheck", "check"])
def test_cross_entropy_bad_targets(check):
    """A target outside [0, n_cols) that is not ignore_index is never read through: its row's loss and
    lse are NaN (the other rows are exact), and with CHECK the kernel records it for the host."""
    m = interpreted_family("cross_entropy")
    n_rows, n_cols, ignore = 6, 36, -100
    x = rows(n_rows, n_cols, "float32")
    target = torch.tensor([1, 36, ignore, 5, -3, 35])
    loss, lse = torch.zeros(n_rows), torch.zeros(n_rows)
    bad = torch.zeros(2, dtype=torch.int64)
    c = m.config_cross_entropy_fwd(n_cols)
    launch(m.KERNELS["cross_entropy_fwd"], (cdiv(n_rows, c["ROWS"]),),
           (x, target, loss, lse, bad, n_rows, n_cols, x.stride(0), ignore), c,
           {"CHECK": check, "ROWS": 0, "BLOCK": 0, "SINGLE": 0})
    assert torch.isnan(loss[[1, 4]]).all() and torch.isnan(lse[[1, 4]]).all()
    good = [0, 2, 3, 5]
    safe = target.clone()
    safe[[1, 4]] = ignore
    expected = F.cross_entropy(x.float(), safe, ignore_index=ignore, reduction="none")
    torch.testing.assert_close(loss[good], expected[good], rtol=1e-5, atol=1e-5)
    if check:
        assert bad[0] == 1 and int(bad[1]) in (36, -3)
    else:
        assert bad.tolist() == [0, 0]


# ----- gelu -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approx", [0, 1], ids=["erf", "tanh"])
@pytest.mark.parametrize("n", [1, 1000, 4097])
def test_gelu(dtype, approx, n):
    m = interpreted_family("gelu")
    mode = "tanh" if approx else "none"
    x = rows(1, n, dtype, pad=0, scale=3.0)[0].contiguous()
    y = torch.empty_like(x)
    c = m.config_gelu_fwd(n)
    launch(m.KERNELS["gelu_fwd"], (cdiv(n, c["BLOCK"]),), (x, y, n), c, {"APPROX": approx, "BLOCK": 0})
    check(y, F.gelu(x.float(), approximate=mode), dtype)
    dy = rows(1, n, dtype, pad=0, seed=1)[0].contiguous()
    dx = torch.empty_like(x)
    c = m.config_gelu_bwd(n)
    launch(m.KERNELS["gelu_bwd"], (cdiv(n, c["BLOCK"]),), (x, dy, dx, n), c, {"APPROX": approx, "BLOCK": 0})
    (expected,) = grad_of(lambda t: F.gelu(t, approximate=mode), [x], dy)
    check(dx, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approx", [0, 1], ids=["erf", "tanh"])
@pytest.mark.parametrize("shape", [(3, 1), (37, 36), (19, 128), (7, 1000), (3, 4097)], ids=str)
def test_bias_gelu(dtype, approx, shape):
    m = interpreted_family("gelu")
    mode = "tanh" if approx else "none"
    n_rows, n_cols = shape
    x = rows(n_rows, n_cols, dtype, scale=2.0)
    bias = rows(1, n_cols, dtype, pad=0, seed=2)[0]
    y = empty_rows(n_rows, n_cols, dtype)
    c = m.config_bias_gelu_fwd(n_cols)
    launch(m.KERNELS["bias_gelu_fwd"], (cdiv(n_rows, c["ROWS"]), cdiv(n_cols, c["BLOCK"])),
           (x, bias, y, n_rows, n_cols, x.stride(0), y.stride(0)), c, {"APPROX": approx, "ROWS": 0, "BLOCK": 0})

    def ref(x, b):
        return F.gelu(x + b, approximate=mode)

    check(y, ref(x.float(), bias.float()), dtype)
    dy = rows(n_rows, n_cols, dtype, seed=4)
    dx = empty_rows(n_rows, n_cols, dtype)
    c = m.config_bias_gelu_bwd(n_rows, n_cols, N_SMS)
    P = c["n_programs"]
    db_part = torch.full((P, n_cols), float("nan"))
    launch(m.KERNELS["bias_gelu_bwd"], (P, cdiv(n_cols, c["BLOCK"])),
           (x, bias, dy, dx, db_part, n_rows, n_cols, x.stride(0), dy.stride(0), dx.stride(0), P), c,
           {"APPROX": approx, "ROWS": 0, "BLOCK": 0})
    gx, gb = grad_of(ref, [x, bias], dy)
    check(dx, gx, dtype)
    check(column_sums(db_part, dtype), gb, dtype)


# ----- rotary -----

def _rope_reference(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 32), (1, 2, 70, 64), (2, 1, 3, 2), (1, 1, 9, 300)], ids=str)
def test_rotary(dtype, shape):
    """Forward against the composed formula on a permuted (non-contiguous) [B, H, T, D] view, and the
    inverse rotation as its gradient."""
    m = interpreted_family("rotary")
    B, H, T, D = shape
    x = rows(B * T * H, D, dtype, pad=0).reshape(B, T, H, D).transpose(1, 2)  # strides of a [B, T, H, D] tensor
    g = torch.Generator().manual_seed(3)
    angles = torch.rand(T, D // 2, generator=g) * 6.0
    cos, sin = angles.cos(), angles.sin()
    c = m.config_rotary_fwd(D)
    grid = (cdiv(T, c["BLOCK_T"]), B * H, cdiv(D // 2, c["BLOCK_H"]))
    y = torch.full((B, H, T, D), float("nan"))
    launch(m.KERNELS["rotary_fwd"], grid, (x, cos, sin, y, x.stride(0), x.stride(1), x.stride(2), H, T), c,
           {"INVERSE": 0, "HALF": 0, "BLOCK_H": 0, "BLOCK_T": 0})
    check(y, _rope_reference(x.float(), cos, sin), "float32")
    dy = rows(B * H * T, D, "float32", pad=0, seed=4).reshape(B, H, T, D)
    dx = torch.full((B, H, T, D), float("nan"))
    launch(m.KERNELS["rotary_fwd"], grid, (dy, cos, sin, dx, dy.stride(0), dy.stride(1), dy.stride(2), H, T), c,
           {"INVERSE": 1, "HALF": 0, "BLOCK_H": 0, "BLOCK_T": 0})
    (expected,) = grad_of(lambda t: _rope_reference(t, cos, sin), [x.float()], dy)
    check(dx, expected, "float32")


# ----- matmul -----

def _operand(rows, cols, layout, dtype, batch=1, seed=0):
    """A [batch, rows, cols] operand stored row-major ("row"), transposed ("col") or as a strided slice
    of a wider row-major tensor with a step between columns ("strided")."""
    g = torch.Generator().manual_seed(seed)
    t = getattr(torch, dtype)
    if layout == "row":
        return torch.randn(batch, rows, cols, generator=g).to(t)
    if layout == "col":
        return torch.randn(batch, cols, rows, generator=g).to(t).transpose(1, 2)
    return torch.randn(batch, rows + 1, 2 * cols, generator=g).to(t)[:, 1:, ::2]


def _unit(t, k_dim_is_cols):
    """(UNIT constexpr, strides passed) of an operand as the C++ launcher lays them: 1 when the stride along
    the second dim is 1, 2 when along the first, the unit stride passed as 0."""
    s1, s2 = t.stride(1), t.stride(2)
    unit = 1 if s2 == 1 else 2 if s1 == 1 else 0
    return unit, (0 if unit == 2 else s1, 0 if unit == 1 else s2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_layout,b_layout", [("row", "row"), ("col", "row"), ("row", "col"), ("strided", "col"),
                                               ("col", "strided")])
@pytest.mark.parametrize("mnk,batch", [((37, 21, 50), 1), ((1, 16, 7), 3), ((70, 130, 33), 2)], ids=str)
def test_matmul(dtype, a_layout, b_layout, mnk, batch):
    """C[b] = A[b] @ B[b] for every operand layout the backward meets (transposed views, slices), sizes that
    are not multiples of the blocks and several batches; float32 with IEEE products. bfloat16 runs on the
    GPU only (tests/gpu/test_suite_matmul_elementwise.py): the interpreter's tl.dot reads bfloat16 tiles as
    garbage (numpy has no bfloat16; float16 is exact here)."""
    if dtype == "bfloat16":
        pytest.skip("Triton's interpreter computes bfloat16 tl.dot wrongly; tested on the GPU")
    m_ = interpreted_family("matmul")
    M, N, K = mnk
    a = _operand(M, K, a_layout, dtype, batch, seed=1)
    b = _operand(K, N, b_layout, dtype, batch, seed=2)
    c = torch.full((batch, M, N), float("nan"), dtype=getattr(torch, dtype))
    a_unit, (sam, sak) = _unit(a, True)
    b_unit, (sbk, sbn) = _unit(b, False)
    cfg = m_.config_matmul_fwd(M, N, K, a.element_size(), int(dtype == "float32"))
    grid = (cdiv(M, cfg["BLOCK_M"]) * cdiv(N, cfg["BLOCK_N"]), batch)
    launch(m_.KERNELS["matmul_fwd"], grid,
           (a, b, c, M, N, K, a.stride(0), sam, sak, b.stride(0), sbk, sbn, c.stride(0), c.stride(1)), cfg,
           {"PRECISION": int(dtype == "float32"), "A_UNIT": a_unit, "B_UNIT": b_unit, "BLOCK_M": 0, "BLOCK_N": 0,
            "BLOCK_K": 0, "GROUP_M": 0})
    check(c, a.double() @ b.double(), dtype)


# ----- elementwise -----

_OPS = {0: lambda x, y, al: x + al * y, 1: lambda x, y, al: x - al * y, 2: lambda x, y, al: x * y,
        3: lambda x, y, al: x / y}


def _as4(t, shape):
    """t broadcast to the 4-d `shape`: (sizes d1..d3, strides), stride 0 along broadcast dims."""
    e = t.expand(shape)
    return list(e.stride())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [0, 1, 2, 3], ids=["add", "sub", "mul", "div"])
@pytest.mark.parametrize("case", ["flat", "broadcast", "permuted", "scalar_y", "scalar_x"])
def test_binary(dtype, op, case):
    """out = x OPCODE y over 4-d broadcast shapes (a bias along the last dim, a column, a permuted operand, a
    strided output as in-place ops have), and with one operand a scalar value."""
    m_ = interpreted_family("elementwise")
    t = getattr(torch, dtype)
    g = torch.Generator().manual_seed(op)
    shape = (2, 3, 5, 7)
    x = torch.randn(shape, generator=g).to(t)
    y = (torch.rand(shape, generator=g) + 0.5).to(t)
    out = torch.full(shape, float("nan"), dtype=t)
    scalar, side, flat = 0.0, 0, 0
    if case == "broadcast":
        y = (torch.rand(7, generator=g) + 0.5).to(t)
        x = torch.randn(2, 1, 5, 1, generator=g).to(t)
    elif case == "permuted":
        x = torch.randn(7, 5, 3, 2, generator=g).to(t).permute(3, 2, 1, 0)
        out = torch.full((2, 5, 3, 7), float("nan"), dtype=t).transpose(1, 2)
    elif case == "flat":
        flat = 1
    n = out.numel()
    xs, ys, os_ = _as4(x, shape), _as4(y, shape), list(out.stride())
    ref_x, ref_y = x.double(), y.double()
    if case == "scalar_y":
        scalar, side, ref_y = 1.75, 1, torch.tensor(1.75, dtype=torch.float64)
    elif case == "scalar_x":
        scalar, side, ref_x = -2.5, 2, torch.tensor(-2.5, dtype=torch.float64)
    cfg = m_.config_binary_fwd(n)
    launch(m_.KERNELS["binary_fwd"], (cdiv(n, cfg["BLOCK"]),),
           (x, y, out, n, 0.5, scalar, shape[1], shape[2], shape[3], *xs, *ys, *os_), cfg,
           {"OPCODE": op, "SCALAR": side, "FLAT": flat, "BLOCK": 0})
    check(out, _OPS[op](ref_x, ref_y, 0.5).expand(shape), dtype)


@pytest.mark.parametrize("src_dtype,dst_dtype", [("float32", "float32"), ("float32", "bfloat16"),
                                                 ("bfloat16", "float32"), ("float16", "float16")])
def test_strided_copy(src_dtype, dst_dtype):
    """OPCODE 4 copies a transposed, sliced source into a contiguous destination, converting its dtype."""
    m_ = interpreted_family("elementwise")
    src = rows(12, 40, src_dtype).reshape(2, 6, 5, 8).permute(0, 3, 1, 2)[:, 1:, :, ::2]
    shape = tuple(src.shape)
    shape4 = (1,) * (4 - len(shape)) + shape
    dst = torch.full(shape, float("nan"), dtype=getattr(torch, dst_dtype))
    n = dst.numel()
    cfg = m_.config_binary_fwd(n)
    launch(m_.KERNELS["binary_fwd"], (cdiv(n, cfg["BLOCK"]),),
           (src, UNUSED.to(getattr(torch, dst_dtype)), dst, n, 1.0, 0.0, shape4[1], shape4[2], shape4[3],
            *_as4(src, shape4), 0, 0, 0, 0, *list(dst.reshape(shape4).stride())), cfg,
           {"OPCODE": 4, "SCALAR": 0, "FLAT": 0, "BLOCK": 0})
    check(dst, src.double(), "bfloat16" if "bfloat16" in (src_dtype, dst_dtype) else dst_dtype)


# ----- the C++ launch plans of the kernels.scope=all families, run through the Python kernels -----

def _both(make, view):
    """The same values and layout as a torch tensor and a vibetensor tensor: view(make()) on each."""
    vt = pytest.importorskip("vibetensor")
    base = make()
    return view(base), view(vt.from_numpy(base.numpy().copy()))


MATMUL_CASES = {
    "row-major": ((37, 50), lambda t: t, (50, 21), lambda t: t),
    "both transposed": ((50, 37), lambda t: t.transpose(-1, -2), (21, 50), lambda t: t.transpose(-1, -2)),
    "batched": ((3, 5, 7), lambda t: t, (3, 7, 130), lambda t: t),
    "shared right operand (folded)": ((4, 64, 38), lambda t: t, (38, 65), lambda t: t),
    "sliced columns": ((40, 100), lambda t: t[:, ::2], (50, 30), lambda t: t),
    "vector times matrix": ((7,), lambda t: t, (7, 9), lambda t: t),
    "batched transposed left": ((3, 16, 5), lambda t: t.transpose(1, 2), (3, 16, 8), lambda t: t),
}


@pytest.mark.parametrize("case", list(MATMUL_CASES))
def test_cpp_matmul_plan_runs_the_kernel_correctly(case):
    """vt::matmul's launch arguments as C++ computes them (plan_matmul: folding, batch strides, unit strides
    passed as 0) given to the interpreted matmul_fwd reproduce torch.matmul."""
    sa, va, sb, vb = MATMUL_CASES[case]
    g = torch.Generator().manual_seed(len(case))
    ta, a = _both(lambda: torch.randn(sa, generator=g), va)
    tb, b = _both(lambda: torch.randn(sb, generator=g), vb)
    vt = pytest.importorskip("vibetensor")
    plan = vt._C._suite_matmul_plan(a, b)
    assert plan["ok"], plan["why"]
    expected = ta @ tb
    c = torch.full(expected.shape, float("nan"))
    m_ = interpreted_family("matmul")
    launch(m_.KERNELS["matmul_fwd"], (plan["grid_x"], plan["batches"]),
           (ta, tb, c, plan["m"], plan["n"], plan["k"], *plan["strides"]), plan,
           {k: 0 for k in ("PRECISION", "A_UNIT", "B_UNIT", "BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M")})
    check(c, expected.double(), "float32")


def test_cpp_matmul_plan_precision_follows_kernels_fp32_matmul():
    """Note [Float32 products]: float32 plans are IEEE under kernels.fp32_matmul=cublas (the suite GEMM of
    kernels.scope=all), TF32x3 with config_matmul_fwd's TF32x3 tiles under tf32x3; 2-byte operands are
    TF32-free (0) under both. The interpreted kernel with the TF32x3 plan reproduces the product."""
    vt = pytest.importorskip("vibetensor")
    m_ = interpreted_family("matmul")
    g = torch.Generator().manual_seed(7)
    ta, tb = torch.randn(300, 64, generator=g), torch.randn(64, 200, generator=g)
    a, b = vt.tensor(ta.numpy()), vt.tensor(tb.numpy())
    with vt.policy.override({"kernels.fp32_matmul": "cublas"}):
        plan = vt._C._suite_matmul_plan(a, b)
    assert plan["PRECISION"] == m_.IEEE and plan["num_stages"] == 3
    with vt.policy.override({"kernels.fp32_matmul": "tf32x3"}):
        plan = vt._C._suite_matmul_plan(a, b)
        half = vt._C._suite_matmul_plan(a.to(vt.bfloat16), b.to(vt.bfloat16))
    cfg = m_.config_matmul_fwd(300, 200, 64, 4, m_.TF32X3)
    assert plan["PRECISION"] == m_.TF32X3 and half["PRECISION"] == m_.TF32
    assert {k: plan[k] for k in cfg} == cfg
    assert plan["grid_x"] == cdiv(300, 128) * cdiv(200, 64)
    c = torch.full((300, 200), float("nan"))
    launch(m_.KERNELS["matmul_fwd"], (plan["grid_x"], plan["batches"]),
           (ta, tb, c, plan["m"], plan["n"], plan["k"], *plan["strides"]), plan,
           {k: 0 for k in ("PRECISION", "A_UNIT", "B_UNIT", "BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M")})
    check(c, ta.double() @ tb.double(), "float32")


def test_cpp_matmul_plan_refuses_uneven_batches():
    vt = pytest.importorskip("vibetensor")
    a = vt.ones(2, 1, 5, 7)
    b = vt.ones(3, 7, 6)
    plan = vt._C._suite_matmul_plan(a, b)  # batch (2, 3): a's offsets 0, 0, 0, 35, 35, 35
    assert not plan["ok"] and "uneven" in plan["why"]


def test_cpp_elementwise_plan_refuses_five_unmergeable_dims():
    vt = pytest.importorskip("vibetensor")
    x, y = vt.ones(2, 3, 4, 5, 6), vt.ones(3, 1, 5, 1)  # y's strides 0, 5, 0, 1, 0 keep all five dims apart
    plan = vt._C._suite_elementwise_plan(vt.empty(2, 3, 4, 5, 6), x, y)
    assert not plan["ok"] and "more than 4 dims" in plan["why"]


ELEMENTWISE_CASES = {
    "same shape": ((64, 384), lambda t: t, (64, 384), lambda t: t),
    "bias": ((8, 64, 384), lambda t: t, (384,), lambda t: t),
    "outer": ((5, 1, 7), lambda t: t, (1, 6, 1), lambda t: t),
    "permuted": ((7, 5, 3, 2), lambda t: t.permute(3, 2, 1, 0), (2, 3, 5, 7), lambda t: t),
    "five dims merged": ((2, 3, 4, 5, 6), lambda t: t, (5, 6), lambda t: t),
    "scalar y": ((17, 3), lambda t: t, None, None),
}


@pytest.mark.parametrize("case", list(ELEMENTWISE_CASES))
def test_cpp_elementwise_plan_runs_the_kernel_correctly(case):
    """x * y over the dims C++ merged (plan_elementwise) reproduces torch's broadcast product, and the FLAT
    choice holds only where the operands are walked contiguously."""
    sx, vx, sy, vy = ELEMENTWISE_CASES[case]
    g = torch.Generator().manual_seed(len(case))
    tx, x = _both(lambda: torch.randn(sx, generator=g), vx)
    vt = pytest.importorskip("vibetensor")
    if sy is None:
        ty, y, scalar, side = torch.tensor(1.5), None, 1.5, 1
    else:
        ty, y = _both(lambda: torch.randn(sy, generator=g), vy)
        scalar, side = 0.0, 0
    expected = tx * ty
    out_t = torch.full(expected.shape, float("nan"))
    out_v = vt.from_numpy(out_t.numpy().copy())
    plan = vt._C._suite_elementwise_plan(out_v, x, y)
    assert plan["ok"], plan["why"]
    assert plan["FLAT"] == (case in ("same shape", "scalar y")), plan
    m_ = interpreted_family("elementwise")
    n = expected.numel()
    launch(m_.KERNELS["binary_fwd"], (cdiv(n, 1024),),
           (tx, tx if sy is None else ty, out_t, n, 1.0, scalar, *plan["sizes"][1:], *plan["strides"]), {"BLOCK": 1024},
           {"OPCODE": 2, "SCALAR": side, "FLAT": int(plan["FLAT"]), "BLOCK": 0})
    check(out_t, expected.double(), "float32")


# ----- launch contracts -----

def contract(doc, name):
    """(param types, constexpr names) of `name`'s launch contract in a family docstring."""
    text = doc[re.search(rf"^(?=\S)[^\n]*\b{name}\b", doc, re.M).start():]
    params = re.search(r"params:(.*?)constexprs:", text, re.S).group(1)
    constexprs = re.search(r"constexprs:([^\n]*)", text).group(1)
    types = [p.split()[-1] for p in " ".join(params.split()).split(",")]
    return ["*T" if t == "*P" else t for t in types], re.findall(r"\b[A-Z_]{3,}\b", constexprs)


@pytest.mark.parametrize("fam", FAMILIES)
def test_docstring_contracts_match_kernels(fam):
    """Each KERNELS entry's documented parameter types and constexprs are the function's, in order."""
    from _compile_families import param_type

    m = interpreted_family(fam)
    for name, fn in m.KERNELS.items():
        sig = inspect.signature(fn.fn)
        constexprs = [p for p, v in sig.parameters.items() if v.annotation is triton.language.constexpr]
        types = [param_type(p, "T") for p in sig.parameters if p not in constexprs]
        assert contract(m.__doc__, name) == (types, constexprs), name
        assert list(sig.parameters)[-len(constexprs):] == constexprs, f"{name}: constexprs must come last"
        assert all(v.default is inspect.Parameter.empty for v in sig.parameters.values()), name


def test_compiles_to_sm90(tmp_path):
    """Every KERNELS entry compiles from an explicit signature to an sm_90 cubin that needs no global
    scratch (the C++ launcher passes null scratch pointers), at short, wide and looped row configs."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path)  # compile for real, not from an earlier run's cache
    script = pathlib.Path(__file__).with_name("_compile_families.py")
    out = subprocess.run([sys.executable, str(script), str(max(1, min(4, os.cpu_count() or 1)))], env=env,
                         cwd=script.parent, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    results = [json.loads(line) for line in out.stdout.splitlines()]
    names = {name for fam in FAMILIES for name in interpreted_family(fam).KERNELS}
    assert {r["kernel"] for r in results} == names
    assert {r["dtype"] for r in results} == {"float32", "bfloat16"}
    for r in results:
        assert r["global_scratch_size"] == 0, r
        assert r["cubin_bytes"] > 0 and r["num_warps"] > 0, r
    # Note [Aligned variants] (kernels/triton/__init__.py): the aligned cubins read rows with vector loads
    # (the flat gelu kernels at n = 64 x 65536 too); the generic ones cannot
    for r in results:
        assert r["vector_loads"] == r["aligned"], (r["kernel"], r["dtype"], r["shape"], r["aligned"])
