"""autograd.detect_anomaly / set_detect_anomaly (Note [Anomaly detection]): a backward raises at the first node
whose gradient has a nan, naming it as torch does; off, a nan passes to the leaves as before."""
import math
import warnings

import pytest
import torch

import vibetensor as vt
from harness import to_vt


def _sqrt_at_zero(device):
    x = to_vt(torch.tensor([0.0, 4.0]), device, requires_grad=True)
    return x, (vt.sqrt(x) * 0.0).sum()  # sqrt's backward: 0 * inf = nan at x = 0


def test_detect_anomaly_names_the_node_that_made_the_nan(device):
    x, loss = _sqrt_at_zero(device)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = vt.autograd.detect_anomaly()
    with ctx:
        assert vt.autograd.is_anomaly_enabled() and vt.autograd.is_anomaly_check_nan_enabled()
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0?' returned nan values in its 0th output"):
            loss.backward()
    assert not vt.autograd.is_anomaly_enabled()
    tx = torch.tensor([0.0, 4.0], requires_grad=True)
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
            (torch.sqrt(tx) * 0.0).sum().backward()


def test_off_or_without_check_nan_the_nan_reaches_the_leaf(device):
    x, loss = _sqrt_at_zero(device)
    loss.backward(retain_graph=True)
    assert math.isnan(x.grad.tolist()[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with vt.autograd.detect_anomaly(check_nan=False):
            assert vt.autograd.is_anomaly_enabled() and not vt.autograd.is_anomaly_check_nan_enabled()
            loss.backward()


def test_set_detect_anomaly_as_a_call_and_as_a_block():
    vt.autograd.set_detect_anomaly(True)
    try:
        assert vt.autograd.is_anomaly_enabled()
        with vt.autograd.set_detect_anomaly(False):
            assert not vt.autograd.is_anomaly_enabled()
        assert vt.autograd.is_anomaly_enabled()
    finally:
        vt.autograd.set_detect_anomaly(False)
    assert not vt.autograd.is_anomaly_enabled()
    with pytest.raises(TypeError, match="mode must be a bool, got str"):
        vt.autograd.set_detect_anomaly("yes")


def test_a_clean_backward_passes_under_detect_anomaly():
    w = vt.randn(3, 2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with vt.autograd.detect_anomaly():
            (vt.randn(4, 3) @ w).relu().sum().backward()
    assert w.grad is not None and not math.isnan(float(w.grad.sum()))
