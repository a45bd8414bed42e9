"""The one test harness: vibetensor <-> torch copies on any device, random inputs, the comparison
of a result with its torch reference, and check_op (an op's forward and backward against torch).

Tests written once run on every device: they take the `device` fixture (conftest.py), which is
"cpu" and "cuda" (the latter skipped when vibetensor.cuda.is_available() is False). torch on the
CPU is the reference on both devices."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

ops = _C._ops
DT = _C.dtype
CPU = _C.device("cpu")

requires_cuda = pytest.mark.skipif(not vt.cuda.is_available(),
                                   reason="no CUDA GPU (vibetensor.cuda.is_available() is False)")
DEVICES = ["cpu", pytest.param("cuda", marks=requires_cuda)]
CUDA_ONLY = [pytest.param("cuda", marks=requires_cuda)]


def cuda(index=0):
    return _C.device("cuda", index)


def as_device(device):
    return _C.device(device) if isinstance(device, str) else device


# ---- copies between vibetensor and torch ---------------------------------------------------------

def to_vt(t, device="cpu", requires_grad=False, keep_strides=False):
    """A vibetensor copy of torch tensor t on `device` (neither aliases the other). keep_strides:
    a CPU copy with t's strides (a view of a private copy of t's storage)."""
    src = t.detach()
    if keep_strides and not src.is_contiguous():
        v = _C._from_dlpack_capsule(src.clone(memory_format=torch.preserve_format).__dlpack__()) \
            if src.is_non_overlapping_and_dense() else ops.clone(_C._from_dlpack_capsule(src.__dlpack__()))
        if str(device) != "cpu":
            v = ops.to_device(v, as_device(device))
    else:
        v = _C._from_dlpack_capsule(src.contiguous().clone().__dlpack__())
        if str(device) != "cpu":
            v = ops.to_device(v, as_device(device))
    if requires_grad:
        v.requires_grad = True
    return v


def to_torch(v):
    """A CPU torch copy of a vibetensor tensor on any device (a view is copied first: torch takes no
    DLPack byte offset)."""
    v = v.detach()
    v = ops.to_device(v, CPU) if v.device.type != "cpu" else ops.clone(v)
    return torch.from_dlpack(v)


def to_numpy(v):
    return to_torch(v).numpy()


def item(v):
    return _C._item(v)


VT_DTYPE = {torch.float32: DT.float32, torch.float64: DT.float64, torch.float16: DT.float16,
            torch.bfloat16: DT.bfloat16, torch.int64: DT.int64, torch.int32: DT.int32, torch.bool: DT.bool}


def vt_dtype(torch_dtype):
    return VT_DTYPE[torch_dtype]


# ---- random inputs (torch tensors on the CPU, reproducible by seed) -------------------------------

def randn(shape, dtype=torch.float32, seed=0, scale=1.0):
    """Normal values (drawn in float64, then rounded to dtype); integers in [-5, 5]; bools."""
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if not dtype.is_floating_point:
        return torch.randint(-5, 6, shape, generator=g, dtype=dtype)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def rand(shape, dtype=torch.float32, lo=-3.0, hi=3.0, seed=0):
    """Uniform values in [lo, hi] (integers: lo..hi inclusive); bools."""
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if not dtype.is_floating_point:
        return torch.randint(int(lo), int(hi) + 1, shape, generator=g, dtype=dtype)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


# ---- comparison -----------------------------------------------------------------------------------

# (rtol, atol) when a comparison names none: a few ulps of each dtype; exact for integers and bools.
TOLERANCES = {torch.float32: (2e-5, 1e-6), torch.float64: (1e-12, 1e-13), torch.float16: (2e-3, 1e-3),
              torch.bfloat16: (1.6e-2, 1e-2)}


def tolerances(torch_dtype):
    return TOLERANCES.get(torch_dtype, (0, 0))


def assert_close(actual, expected, rtol=None, atol=None, equal_nan=True, check_dtype=True):
    """actual (a vibetensor tensor, or numbers) equals expected (a torch tensor, or numbers / arrays):
    the same shape and dtype, and values within rtol / atol (by default those of expected's dtype, or of
    actual's when expected is numbers)."""
    got = to_torch(actual) if isinstance(actual, vt.Tensor) else torch.as_tensor(np.asarray(actual))
    tol_dtype = expected.dtype if isinstance(expected, torch.Tensor) else got.dtype  # numbers: actual's
    if not isinstance(expected, torch.Tensor):
        expected = torch.as_tensor(np.asarray(expected))
        check_dtype = False
    expected = expected.detach().to("cpu")
    assert tuple(got.shape) == tuple(expected.shape), f"shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if check_dtype:
        assert got.dtype == expected.dtype, f"dtype {got.dtype}, expected {expected.dtype}"
    elif got.dtype != expected.dtype:
        common = torch.promote_types(got.dtype, expected.dtype)
        got, expected = got.to(common), expected.to(common)
    r, a = tolerances(tol_dtype)
    torch.testing.assert_close(got, expected, rtol=r if rtol is None else rtol, atol=a if atol is None else atol,
                               equal_nan=equal_nan)


# ---- autograd -------------------------------------------------------------------------------------

def backward(out, grad=None):
    """Backward from vibetensor `out`, seeded with torch tensor `grad` (default: ones, for a scalar)."""
    _C._backward([out], [] if grad is None else [to_vt(grad, out.device)], False)


def weighted_sum(out, w):
    """sum(out * w) (w: a torch tensor): a scalar whose gradient with respect to out is w."""
    return ops.sum(ops.mul(out, to_vt(w, out.device)))


def check_op(vt_fn, torch_fn, inputs, device="cpu", tol=None, grad_tol=None, grad_of=None, seed=1, vt_inputs=None):
    """Runs vt_fn on vibetensor copies of `inputs` (torch tensors, or None passed through as None) on
    `device`, and torch_fn on the inputs themselves; compares the outputs (one tensor or a tuple) and
    then, for every input flagged in grad_of (default: those with requires_grad), its gradient of
    sum(out_i * w_i) over the floating outputs, with random w_i drawn from `seed`.
    tol / grad_tol: assert_close keywords (grad_tol defaults to tol). vt_inputs: vibetensor tensors
    to run on instead of the copies (e.g. strided views holding the values of `inputs`).
    Returns (vt outputs, torch outputs)."""
    tol = tol or {}
    grad_tol = tol if grad_tol is None else grad_tol
    if grad_of is None:
        grad_of = [x is not None and x.requires_grad for x in inputs]
    leaves = [None if x is None else x.detach().clone().requires_grad_(g) for x, g in zip(inputs, grad_of)]
    ref = torch_fn(*leaves)
    if vt_inputs is None:
        vts = [None if x is None else to_vt(x, device, requires_grad=g) for x, g in zip(inputs, grad_of)]
    else:
        vts = list(vt_inputs)
        for v, g in zip(vts, grad_of):
            if g:
                v.requires_grad = True
    out = vt_fn(*vts)
    refs, outs = (ref, out) if isinstance(ref, tuple) else ((ref,), (out,))
    assert len(outs) == len(refs), (len(outs), len(refs))
    for o, r in zip(outs, refs):
        assert str(o.device) == str(as_device(device)), (str(o.device), str(device))
        assert_close(o, r.detach(), **tol)
    if not any(grad_of):
        return out, ref
    floats = [(o, r) for o, r in zip(outs, refs) if r.dtype.is_floating_point and r.requires_grad]
    ws = [randn(tuple(r.shape), r.dtype, seed=seed + k) for k, (_, r) in enumerate(floats)]
    sum((r * w).sum() for (_, r), w in zip(floats, ws)).backward()
    loss = weighted_sum(floats[0][0], ws[0])
    for (o, _), w in zip(floats[1:], ws[1:]):
        loss = ops.add(loss, weighted_sum(o, w))
    backward(loss)
    for i, g in enumerate(grad_of):
        if g:
            assert vts[i].grad is not None, f"input {i} got no gradient"
            assert_close(vts[i].grad, leaves[i].grad, **grad_tol)
    return out, ref
