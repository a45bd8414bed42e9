"""The shape-changing layers against torch on every device: F.pixel_shuffle / F.pixel_unshuffle and their
modules (batch dims, round trips, gradients, errors), nn.Upsample and its fixed-mode forms over
F.interpolate, and the padding modules over F.pad (constant, zero, reflection, replication, circular in
1d / 2d / 3d, batched and unbatched, reprs, errors)."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt

F = vt.nn.functional
TF = torch.nn.functional
DTYPES = [torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape,r", [((2, 8, 3, 5), 2), ((18, 2, 3), 3), ((2, 3, 4, 2, 2), 2), ((1, 5, 2, 3), 1)],
                         ids=str)
def test_pixel_shuffle(device, shape, r, dtype):
    x = randn(shape, dtype, seed=1).requires_grad_()
    check_op(lambda v: F.pixel_shuffle(v, r), lambda t: TF.pixel_shuffle(t, r), [x], device)
    check_op(lambda v: vt.nn.PixelShuffle(r)(v), lambda t: torch.nn.PixelShuffle(r)(t), [x], device)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape,r", [((2, 2, 6, 4), 2), ((3, 6, 9), 3), ((2, 1, 3, 4, 4), 2)], ids=str)
def test_pixel_unshuffle(device, shape, r, dtype):
    x = randn(shape, dtype, seed=2).requires_grad_()
    check_op(lambda v: F.pixel_unshuffle(v, r), lambda t: TF.pixel_unshuffle(t, r), [x], device)
    check_op(lambda v: vt.nn.PixelUnshuffle(r)(v), lambda t: torch.nn.PixelUnshuffle(r)(t), [x], device)
    round_trip = F.pixel_shuffle(F.pixel_unshuffle(to_vt(x, device), r), r)
    assert_close(round_trip, x.detach())


def test_pixel_shuffle_strided_input(device):
    base = randn((2, 8, 4, 6), seed=3)  # used as its transpose over the last two dims
    check_op(lambda v: F.pixel_shuffle(v, 2), lambda t: TF.pixel_shuffle(t, 2),
             [base.transpose(-1, -2).contiguous().requires_grad_()], device,
             vt_inputs=[to_vt(base, device).transpose(-1, -2)])


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match=r"pixel_shuffle expects input to have at least 3 dimensions, but got input "
                                           r"with 2 dimension\(s\)"):
        F.pixel_shuffle(vt.randn(4, 4), 2)
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor, but input.size\\(-3\\)=3 is not "
                                           "divisible by 4"):
        F.pixel_shuffle(vt.randn(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_shuffle expects a positive upscale_factor, but got 0"):
        F.pixel_shuffle(vt.randn(1, 4, 2, 2), 0)
    with pytest.raises(RuntimeError, match="expects height to be divisible by downscale_factor, but input.size\\(-2\\)=3"):
        F.pixel_unshuffle(vt.randn(1, 4, 3, 2), 2)
    with pytest.raises(RuntimeError, match="expects width to be divisible by downscale_factor, but input.size\\(-1\\)=3"):
        F.pixel_unshuffle(vt.randn(1, 4, 2, 3), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle expects a positive downscale_factor, but got -1"):
        F.pixel_unshuffle(vt.randn(1, 4, 2, 2), -1)
    with pytest.raises(TypeError, match="upscale_factor must be an int, got float"):
        F.pixel_shuffle(vt.randn(1, 4, 2, 2), 2.0)


UPSAMPLES = [({"scale_factor": 2}, (2, 3, 5)), ({"scale_factor": 2}, (2, 3, 4, 5)), ({"size": 7}, (1, 2, 4)),
             ({"size": (5, 3), "mode": "nearest"}, (2, 1, 3, 4)),
             ({"scale_factor": 1.5, "mode": "linear"}, (2, 3, 6)),
             ({"scale_factor": 2, "mode": "bilinear"}, (1, 2, 3, 4)),
             ({"size": (6, 5), "mode": "bilinear", "align_corners": True}, (2, 2, 3, 4)),
             ({"scale_factor": (2, 3), "mode": "nearest-exact"}, (1, 1, 3, 3))]


@pytest.mark.parametrize("kw,shape", UPSAMPLES, ids=str)
def test_upsample(device, kw, shape):
    x = randn(shape, seed=4).requires_grad_()
    check_op(lambda v: vt.nn.Upsample(**kw)(v), lambda t: torch.nn.Upsample(**kw)(t), [x], device,
             tol=dict(rtol=1e-5, atol=1e-6))
    assert repr(vt.nn.Upsample(**kw)) == repr(torch.nn.Upsample(**kw))


@pytest.mark.parametrize("name", ["UpsamplingNearest2d", "UpsamplingBilinear2d"])
def test_fixed_mode_upsampling(device, name):
    x = randn((2, 3, 4, 5), seed=5).requires_grad_()
    for kw in ({"scale_factor": 2}, {"size": (7, 3)}):
        check_op(lambda v: getattr(vt.nn, name)(**kw)(v), lambda t: getattr(torch.nn, name)(**kw)(t), [x], device,
                 tol=dict(rtol=1e-5, atol=1e-6))
        assert repr(getattr(vt.nn, name)(**kw)) == repr(getattr(torch.nn, name)(**kw))


def test_upsample_errors():
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        vt.nn.Upsample()(vt.randn(1, 1, 4))
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        vt.nn.Upsample(scale_factor=2, mode="bicubic")(vt.randn(1, 1, 4, 4))


# (module, constructor arguments, input shapes): each module on a batched and an unbatched input
PADS = [("ZeroPad1d", (2,), [(2, 3, 5), (3, 5)]), ("ZeroPad2d", ((1, 2, 0, 3),), [(2, 3, 4, 5), (3, 4, 5)]),
        ("ZeroPad3d", (1,), [(1, 2, 3, 3, 2)]), ("ConstantPad1d", ((3, -1), 2.5), [(2, 3, 5), (3, 5)]),
        ("ConstantPad2d", (2, -1.0), [(2, 3, 4, 5), (4, 5)]), ("ConstantPad3d", ((1, 0, 0, 1, 2, 1), 0.5),
                                                                  [(1, 2, 3, 3, 2), (2, 3, 3, 2)]),
        ("ReflectionPad1d", ((3, 1),), [(2, 3, 5), (3, 5)]), ("ReflectionPad2d", (2,), [(2, 3, 4, 5), (3, 4, 5)]),
        ("ReflectionPad2d", ((0, 3, 1, 2),), [(1, 2, 4, 5)]), ("ReflectionPad3d", (1,), [(1, 2, 3, 3, 2)]),
        ("ReplicationPad1d", ((0, 4),), [(2, 3, 5), (3, 5)]), ("ReplicationPad2d", ((1, 2, 3, 0),),
                                                               [(2, 3, 4, 5), (3, 4, 5)]),
        ("ReplicationPad3d", (2,), [(1, 2, 3, 3, 2)]), ("CircularPad1d", (2,), [(2, 3, 5), (3, 5)]),
        ("CircularPad2d", ((1, 2, 2, 0),), [(2, 3, 4, 5), (3, 4, 5)]), ("CircularPad3d", (1,), [(1, 2, 3, 3, 2)])]


@pytest.mark.parametrize("name,args,shapes", PADS, ids=lambda v: v if isinstance(v, str) else "")
def test_padding_modules(device, name, args, shapes):
    vm, tm = getattr(vt.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(vm) == repr(tm)
    for i, shape in enumerate(shapes):
        for dtype in DTYPES:
            x = randn(shape, dtype, seed=i).requires_grad_()
            check_op(vm, tm, [x], device)


def test_padding_module_strided_input(device):
    base = randn((2, 3, 5, 4), seed=6)
    check_op(vt.nn.ReflectionPad2d((1, 2, 2, 1)), torch.nn.ReflectionPad2d((1, 2, 2, 1)),
             [base.transpose(-1, -2).contiguous().requires_grad_()], device,
             vt_inputs=[to_vt(base, device).transpose(-1, -2)])


def test_padding_errors():
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        vt.nn.ReflectionPad1d(5)(vt.randn(1, 2, 4))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        vt.nn.CircularPad2d(1)(vt.randn(4, 4))
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D padding with non-constant padding"):
        vt.nn.ReplicationPad2d(1)(vt.randn(4, 4))
