"""Bad input gets a clear Python exception naming what was given and what was expected; a
failed in-place op leaves its tensor unchanged; the process never crashes."""
import numpy as np
import pytest

import vibetensor as vt


def test_failed_inplace_ops_leave_the_tensor_unchanged():
    x = vt.arange(6, dtype=vt.float32).reshape(2, 3)
    before = x.numpy().copy()
    version = x._version
    with pytest.raises((ValueError, RuntimeError), match=r"\[2, 3\]"):
        x.add_(vt.ones(4, 3))                    # broadcast would change self's shape
    with pytest.raises(TypeError, match="int64"):
        vt.arange(3).add_(vt.ones(3) * 0.5)      # float result into an int tensor
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill_(vt.ones(2, 3), 0.0)       # mask must be bool
    with pytest.raises((ValueError, RuntimeError)):
        x.copy_(vt.ones(5))
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == version


@pytest.mark.parametrize("fn, exc, pattern", [
    (lambda: vt.ones(2, 3) + vt.ones(4), (ValueError, RuntimeError), r"\[2, 3\].*\[4\]"),
    (lambda: vt.ones(2, 3).sum(dim=5), IndexError, "range"),
    (lambda: vt.ones(2, 3)[5], IndexError, "5"),
    (lambda: vt.ones(2, 3) @ vt.ones(4, 2), (ValueError, RuntimeError), "2"),
    (lambda: vt.ones(2, 3).view(7), (ValueError, RuntimeError), "7"),
    (lambda: vt.nn.functional.embedding(vt.tensor([7]), vt.ones(3, 2)), IndexError, "7"),
    (lambda: vt.ones(3).exp(1), TypeError, "argument|positional"),
    (lambda: vt.ones(2, device="tpu"), (ValueError, RuntimeError), "tpu"),
    (lambda: vt.policy.set(**{"autograd.gate": "sometimes"}), ValueError, "per_graph"),
    (lambda: vt.policy.set(**{"no.such": "x"}), ValueError, "dispatch.lookup"),
    (lambda: vt._C._policy_apply("preset=vibe,garbage"), ValueError, "name=value"),
])
def test_bad_input_raises_clear_errors(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()


def test_sub_refuses_bool_operands_like_torch():
    import torch
    f, b = vt.ones(3), vt.tensor([True, False, True])
    for call, ref in [(lambda: f - True, lambda: torch.ones(3) - True),
                      (lambda: True - f, lambda: True - torch.ones(3)),
                      (lambda: f.sub_(b), lambda: torch.ones(3).sub_(torch.tensor([True, False, True]))),
                      (lambda: b - b, None)]:
        if ref is not None:
            with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
                ref()
        with pytest.raises(RuntimeError, match="bool tensor"):
            call()
    np.testing.assert_array_equal((f - 1).numpy(), np.zeros(3, dtype=np.float32))
