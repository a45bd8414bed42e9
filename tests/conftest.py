"""Shared helpers: moving values between vibetensor and torch, and comparing them."""
import numpy as np
import pytest
import torch

import vibetensor as vt


def to_torch(t):
    """A torch tensor with the values (and requires_grad) of a vibetensor tensor (a copy)."""
    out = torch.from_numpy(np.array(vt._interop.host_values(t.detach()))).to(_torch_dtype(t.dtype))
    return out.requires_grad_(t.requires_grad)


def to_vt(t):
    """A vibetensor tensor with the values (and requires_grad) of a torch tensor (a copy)."""
    src = t.detach()
    if src.dtype == torch.bfloat16:
        return vt.from_numpy(src.float().numpy().copy()).bfloat16().requires_grad_(t.requires_grad)
    return vt.from_numpy(src.numpy().copy()).requires_grad_(t.requires_grad)


def _torch_dtype(d):
    return getattr(torch, d.name)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, check_dtype=True):
    """actual: a vibetensor tensor; expected: a torch tensor (or numbers / arrays)."""
    if isinstance(expected, torch.Tensor):
        if check_dtype:
            assert actual.dtype.name == str(expected.dtype).split(".")[1], (actual.dtype, expected.dtype)
        assert tuple(actual.shape) == tuple(expected.shape), (tuple(actual.shape), tuple(expected.shape))
        expected = expected.detach().float().numpy() if expected.dtype == torch.bfloat16 else expected.detach().numpy()
    a = vt._interop.host_values(actual.detach()) if isinstance(actual, vt.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(a, expected, rtol=rtol, atol=atol, equal_nan=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _restore_policies_and_grad_mode():
    """Policies are process-wide: every test starts from and leaves the values it found."""
    before = vt.policy.current()
    grad_mode = vt.is_grad_enabled()
    yield
    for name, value in before.items():
        if vt.policy.get(name) != value:
            vt.policy.set(name, value)
    vt.set_grad_enabled(grad_mode)


@pytest.fixture
def restore_policies():
    """Puts every policy back as it was and clears counters and lock statistics after the test."""
    saved = vt._C._policy_current()
    yield
    for k, v in saved.items():
        vt._C._policy_set(k, v)
    vt._C._reset_counters()
    vt._C._reset_lock_stats()
