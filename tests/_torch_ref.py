"""Moving tensors between vibetensor and torch for reference tests (through DLPack, copied so
neither side aliases the other)."""
import torch

from vibetensor import _C

ops = _C._ops


def to_vt(t, requires_grad=False):
    v = _C._from_dlpack_capsule(t.detach().contiguous().clone().__dlpack__())
    if requires_grad:
        v.requires_grad = True
    return v


def to_torch(v):
    return torch.from_dlpack(v.detach()).clone()


def backward(loss):
    _C._backward([loss], [], False)


def weighted_sum(out, w):
    """sum(out * w): a scalar whose gradient with respect to out is w."""
    return ops.sum(ops.mul(out, to_vt(w)))


def assert_close(v, t, **tol):
    """v (vibetensor) equals t (torch) in shape, dtype and values."""
    torch.testing.assert_close(to_torch(v), t, **tol)


def leaf(shape, dtype=torch.float32, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
