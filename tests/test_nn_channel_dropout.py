"""Channel-wise dropout (F.dropout1d / 2d / 3d, nn.Dropout1d / 2d / 3d) on every device: whole channels
zeroed with probability p and the rest scaled by 1 / (1 - p), the gradient the same mask, batched and
unbatched inputs, eval mode, p = 0 and 1, in place, seeded reproducibility, reprs, and torch's warnings and
errors. (Random masks cannot match torch's draws; their statistics and structure are checked instead.)"""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, randn, to_torch, to_vt

F = vt.nn.functional
TF = torch.nn.functional

# (function, input shape, the dims of one channel): the batched and unbatched inputs each function takes
SHAPES = [("dropout1d", (30, 40, 3), (2,)), ("dropout1d", (400, 3), (1,)), ("dropout2d", (30, 40, 2, 3), (2, 3)),
          ("dropout3d", (30, 40, 2, 1, 2), (2, 3, 4)), ("dropout3d", (400, 2, 2, 2), (1, 2, 3))]


def channel_masks(out, x, channel_dims):
    """out / x per element, and whether each channel is all zero or all kept (a per-channel 0 / 1 tensor)."""
    ratio = out / x
    zero = (out == 0).all(dim=channel_dims)
    kept = (out != 0).all(dim=channel_dims)
    assert bool((zero | kept).all()), "a channel was partly dropped"
    return ratio, kept


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name,shape,channel_dims", SHAPES, ids=str)
def test_whole_channels_dropped_and_scaled(device, name, shape, channel_dims, dtype):
    p = 0.3
    vt.manual_seed(7)  # the draws do not depend on the tests run before
    x = randn(shape, dtype, seed=1).abs() + 0.5  # no zeros of its own
    xv = to_vt(x, device, requires_grad=True)
    out = getattr(F, name)(xv, p=p)
    got = to_torch(out)
    ratio, kept = channel_masks(got, x, channel_dims)
    assert torch.allclose(ratio[got != 0], torch.tensor(1 / (1 - p), dtype=dtype))
    dropped = 1 - kept.double().mean().item()
    sd = (p * (1 - p) / kept.numel()) ** 0.5  # of the dropped fraction over this many channels
    assert abs(dropped - p) < 5 * sd, (dropped, kept.numel())
    w = randn(shape, dtype, seed=2)
    (out * to_vt(w, device)).sum().backward()
    assert_close(xv.grad, w * got / x)  # the same mask and scale


@pytest.mark.parametrize("name,shape", [("dropout1d", (2, 3, 4)), ("dropout2d", (2, 3, 4, 5)),
                                        ("dropout3d", (3, 2, 2, 2))], ids=str)
def test_identity_cases_and_p_one(device, name, shape):
    x = to_vt(randn(shape, seed=3), device)
    assert getattr(F, name)(x, 0.5, training=False) is x
    assert getattr(F, name)(x, 0.0) is x
    assert_close(getattr(F, name)(x, 1.0), torch.zeros(shape))
    module = getattr(vt.nn, name.replace("dropout", "Dropout"))(0.5).eval()
    assert module(x) is x
    assert repr(module) == repr(getattr(torch.nn, name.replace("dropout", "Dropout"))(0.5))


def test_inplace_and_seeded(device):
    x = randn((4, 50, 3), seed=4).abs() + 0.5
    a = to_vt(x, device)
    out = F.dropout1d(a, 0.5, inplace=True)
    assert out is a and bool(((to_torch(a) == 0) | (to_torch(a) == 2 * x)).all()) and bool((to_torch(a) == 0).any())
    unbatched = to_vt(x[0], device)
    assert F.dropout1d(unbatched, 0.5, inplace=True) is unbatched and tuple(unbatched.shape) == (50, 3)
    vt.manual_seed(7)
    first = to_torch(vt.nn.Dropout2d(0.4)(to_vt(x.unsqueeze(-1), device)))
    vt.manual_seed(7)
    assert torch.equal(to_torch(vt.nn.Dropout2d(0.4)(to_vt(x.unsqueeze(-1), device))), first)


def test_warnings_and_errors():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(vt.randn(2, 3, 4, 4), 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        vt.nn.Dropout1d(-0.1)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(vt.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d, which is deprecated"):
        F.dropout2d(vt.randn(3, 4), 0.5)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                                         "1D dropout behavior is desired"):
        F.dropout2d(vt.randn(3, 4, 5), 0.5)
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d, which is deprecated"):
        F.dropout3d(vt.randn(2, 3, 4), 0.5)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in the input"), \
            pytest.warns(UserWarning):
        F.dropout2d(vt.randn(3), 0.5)
