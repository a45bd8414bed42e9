"""Convolutions, pooling and batch norm (Note [Convolution by windows] in vibetensor/nn/_conv.py) against
torch on random inputs on every device: conv1d / conv2d with strides, padding (ints, 'same', 'valid'),
dilation, groups and bias, forward and backward of input, weight and bias; max / avg / adaptive pooling
with padding, ceil_mode and count_include_pad; batch_norm in training (running statistics) and eval; the
modules with torch's initialisation shapes and a small CNN trained a few steps from torch's weights;
bad input raises a clear error."""
import pytest
import torch
import torch.nn.functional as TF

import vibetensor as vt

from harness import assert_close, check_op, randn, to_torch, to_vt

F = vt.nn.functional
TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", [
    dict(x=(2, 3, 9, 8), w=(4, 3, 3, 3)),
    dict(x=(1, 4, 10, 11), w=(6, 2, 3, 2), stride=2, padding=1, groups=2),
    dict(x=(2, 2, 12, 12), w=(3, 2, 3, 3), dilation=2, padding=(2, 1)),
    dict(x=(2, 3, 7, 7), w=(5, 3, 1, 1), bias=False),
    dict(x=(1, 2, 8, 9), w=(2, 2, 4, 3), padding="same"),
    dict(x=(1, 2, 8, 9), w=(2, 2, 4, 3), padding="valid", stride=(2, 3)),
    dict(x=(3, 9, 9), w=(2, 3, 3, 3)),  # unbatched
], ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_conv2d(device, case):
    case = dict(case)
    xs, ws, bias = case.pop("x"), case.pop("w"), case.pop("bias", True)
    x = randn(xs, seed=1).requires_grad_()
    w = randn(ws, seed=2, scale=0.3).requires_grad_()
    b = randn((ws[0],), seed=3).requires_grad_() if bias else None
    check_op(lambda a, c, d: F.conv2d(a, c, d, **case), lambda a, c, d: TF.conv2d(a, c, d, **case), [x, w, b], device,
             TOL)


def test_conv2d_float64_and_a_strided_input(device):
    """The CPU's native kernel (Note [CPU convolution]) in float64, and on a channels-sliced, transposed view."""
    x = randn((2, 6, 9, 10), torch.float64, seed=4)
    w = randn((5, 3, 3, 3), torch.float64, seed=5, scale=0.3).requires_grad_()
    view = x[:, ::2].transpose(2, 3).detach().requires_grad_()  # [2, 3, 10, 9], not contiguous in vibetensor below
    vt_view = to_vt(x, device)[:, ::2].transpose(2, 3).requires_grad_()
    check_op(lambda a, c: F.conv2d(a, c, stride=(2, 1), padding=1, dilation=(1, 2)),
             lambda a, c: TF.conv2d(a, c, stride=(2, 1), padding=1, dilation=(1, 2)), [view, w], device,
             dict(rtol=1e-10, atol=1e-10), vt_inputs=[vt_view, to_vt(w.detach(), device).requires_grad_()])


def test_conv2d_kernel_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        F.conv2d(vt.ones(1, 1, 3, 3), vt.ones(1, 1, 4, 4), stride=2)


@pytest.mark.parametrize("case", [dict(), dict(stride=2, padding=2), dict(dilation=3, groups=2, padding="same")],
                         ids=str)
def test_conv1d(device, case):
    x = randn((2, 4, 20), seed=1).requires_grad_()
    w = randn((6, 4 // case.get("groups", 1), 3), seed=2, scale=0.3).requires_grad_()
    b = randn((6,), seed=3).requires_grad_()
    check_op(lambda a, c, d: F.conv1d(a, c, d, **case), lambda a, c, d: TF.conv1d(a, c, d, **case), [x, w, b], device,
             TOL)


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(3, 2), stride=(2, 1), ceil_mode=True),
                                  dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, dilation=1)], ids=str)
def test_max_pool2d(device, case):
    x = randn((2, 3, 9, 10), seed=4).requires_grad_()
    check_op(lambda a: F.max_pool2d(a, **case), lambda a: TF.max_pool2d(a, **case), [x], device, TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                  dict(kernel_size=(2, 3), stride=1, dilation=2)], ids=str)
def test_max_pool2d_ties_nans_and_indices_match_torch(device, case, dtype):
    """Note [Max pooling]: a tie's gradient goes to the window's first maximum, a NaN wins, and the indices
    are torch's flat positions in the input plane; on CUDA the backward's gather sums overlapping windows
    exactly (small integers: every sum is exact, so any other order or a lost write shows)."""
    if device == "cpu" and dtype == torch.bfloat16:
        pytest.skip("the CPU kernel takes float32 and float64; bfloat16 takes the composed path there")
    x = torch.randint(0, 3, (2, 3, 9, 10), generator=torch.Generator().manual_seed(11)).to(dtype)
    x[0, 1, 4, 4] = float("nan")
    got, got_idx = F.max_pool2d(to_vt(x, device), return_indices=True, **case)
    want, want_idx = TF.max_pool2d(x, return_indices=True, **case)
    torch.testing.assert_close(to_torch(got), want, equal_nan=True, rtol=0, atol=0)
    assert torch.equal(to_torch(got_idx), want_idx)
    clean = x.clone().nan_to_num_(1.0)
    gy = torch.randint(-4, 5, want.shape, generator=torch.Generator().manual_seed(12)).to(dtype)
    xv = to_vt(clean, device).requires_grad_()
    F.max_pool2d(xv, **case).backward(to_vt(gy, device))
    xt = clean.clone().requires_grad_()
    TF.max_pool2d(xt, **case).backward(gy)
    assert torch.equal(to_torch(xv.grad), xt.grad)
    one, one_idx = F.max_pool1d(to_vt(x[0], device), 3, 2, 1, return_indices=True)
    want1, want1_idx = TF.max_pool1d(x[0], 3, 2, 1, return_indices=True)
    torch.testing.assert_close(to_torch(one), want1, equal_nan=True, rtol=0, atol=0)
    assert torch.equal(to_torch(one_idx), want1_idx)


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_gradient_penalty_through_max_pool2d_matches_torch(device, case):
    """create_graph through max pooling (Note [Double backward]): the penalty ||d out / d x||^2 of a
    scale -> max_pool2d -> tanh net, differentiated again with respect to the per-channel scale (the CPU
    convolution's backward has no second derivative yet, so a scale stands in for it)."""
    x0, w0 = randn((2, 3, 9, 8), seed=21), randn((1, 3, 1, 1), seed=22)

    def penalty(lib, x, w):
        out = lib.tanh(lib.nn.functional.max_pool2d(x * w, **case)).sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        (gw,) = lib.autograd.grad((gx * gx).sum(), w)
        return gx.detach(), gw

    tg, tw = penalty(torch, x0.clone().requires_grad_(), w0.clone().requires_grad_())
    vg, vw = penalty(vt, to_vt(x0, device).requires_grad_(), to_vt(w0, device).requires_grad_())
    assert_close(vg, tg, **TOL)
    assert_close(vw, tw, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [dict(padding=1), dict(stride=2, padding=1), dict(dilation=2, padding=2),
                                  dict(padding=1, groups=2), dict(stride=2, padding=1, groups=2),
                                  dict(dilation=2, padding=2, groups=4), dict(padding=(1, 0))], ids=str)
def test_gradient_penalty_through_conv2d_matches_torch(device, case):
    """create_graph through conv2d (WGAN-GP's penalty), through the CPU kernel (no groups) and the composed
    convolution (groups, and every CUDA convolution: Note [Custom Function double backward]): conv ->
    max_pool2d -> tanh -> grouped conv, the penalty ||d out / d x||^2 differentiated again with respect to
    both weights and the input."""
    x0 = randn((2, 4, 10, 9), seed=23)
    w0 = randn((4, 4 // case.get("groups", 1), 3, 3), seed=24, scale=0.3)
    v0 = randn((2, 2, 2, 2), seed=25, scale=0.3)

    def penalty(lib, x, w, v):
        F_ = lib.nn.functional
        out = F_.conv2d(lib.tanh(F_.max_pool2d(F_.conv2d(x, w, **case), 2)), v, groups=2).sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        return gx.detach(), lib.autograd.grad((gx * gx).sum(), (x, w, v))

    tg, tgrads = penalty(torch, *(t.clone().requires_grad_() for t in (x0, w0, v0)))
    vg, vgrads = penalty(vt, *(to_vt(t, device).requires_grad_() for t in (x0, w0, v0)))
    assert_close(vg, tg, **TOL)
    for got, want in zip(vgrads, tgrads):
        assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_max_pool2d_backward_refuses_foreign_indices(device):
    g = to_vt(torch.ones(1, 1, 2, 2), device)
    window = ([2, 2], [1, 1], [0, 0], [1, 1])
    # CUDA raises at the call only under checks.cuda_index=sync (Note [CUDA index checks]); the default traps
    with vt.policy.override("checks.cuda_index=sync"):
        with pytest.raises(IndexError, match="9"):  # off the plane
            vt._C._ops._max_pool2d_backward(g, to_vt(torch.tensor([[[[0, 1], [3, 9]]]]), device), 3, 3, *window)
    with vt.policy.override("checks.cuda_index=sync"):  # in the plane, but outside output (0, 1)'s window
        with pytest.raises(IndexError, match="6"):
            vt._C._ops._max_pool2d_backward(g, to_vt(torch.tensor([[[[0, 6], [3, 4]]]]), device), 3, 3, *window)
    with pytest.raises(ValueError, match="a 2x2 gradient is not the output of this window over a 4x4 input"):
        vt._C._ops._max_pool2d_backward(g, to_vt(torch.tensor([[[[0, 1], [2, 3]]]]), device), 4, 4, *window)
    with pytest.raises(ValueError, match="expected a 4-d gradient of the indices' shape"):
        vt._C._ops._max_pool2d_backward(g, to_vt(torch.zeros(1, 1, 2, 3, dtype=torch.int64), device), 3, 3, *window)
    with pytest.raises(ValueError, match="a dilated window holds no element of the 2x2 input"):
        F.max_pool2d(to_vt(torch.ones(1, 1, 2, 2), device), 2, 1, 1, 3)  # torch: -inf at index 6, off the plane
    with pytest.raises(TypeError, match="expected a floating point input"):
        vt._C._ops._max_pool2d(to_vt(torch.ones(1, 1, 4, 4, dtype=torch.int64), device), [2, 2], [2, 2], [0, 0],
                               [1, 1], False)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.int64], ids=str)
def test_max_pool2d_composed_path_refuses_windows_of_only_padding(device, dtype):
    # CPU bfloat16 and integer inputs take the composed amax path; it refuses what the native kernels refuse
    x = to_vt(torch.ones(1, 1, 2, 2, dtype=dtype), device)
    with pytest.raises(ValueError, match="a dilated window holds no element of the 2x2 input"):
        F.max_pool2d(x, 2, 1, 1, 3)
    with pytest.raises(ValueError, match="a dilated window holds no element of the 2x2 input"):
        F.max_pool2d(x, (1, 2), 1, (0, 1), (1, 3), ceil_mode=True)
    t = torch.arange(42, dtype=dtype).reshape(1, 1, 6, 7)  # dilated windows that all hold an element agree
    want = torch.nn.functional.max_pool2d(t.double(), 3, 2, 1, 2, ceil_mode=True).to(dtype)
    got = F.max_pool2d(to_vt(t, device), 3, 2, 1, 2, ceil_mode=True)
    assert torch.equal(to_torch(got), want)


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                  dict(kernel_size=3, stride=2, ceil_mode=True),
                                  dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                                  dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                  dict(kernel_size=2, divisor_override=3)], ids=str)
def test_avg_pool2d(device, case):
    x = randn((2, 3, 9, 10), seed=5).requires_grad_()
    check_op(lambda a: F.avg_pool2d(a, **case), lambda a: TF.avg_pool2d(a, **case), [x], device, TOL)


@pytest.mark.parametrize("size", [1, (2, 3), (3, 4), (None, 2)], ids=str)
def test_adaptive_avg_pool2d(device, size):
    x = randn((2, 3, 9, 8), seed=6).requires_grad_()
    check_op(lambda a: F.adaptive_avg_pool2d(a, size), lambda a: TF.adaptive_avg_pool2d(a, size), [x], device, TOL)


def test_pool1d(device):
    x = randn((2, 3, 17), seed=7).requires_grad_()
    check_op(lambda a: F.max_pool1d(a, 3, 2, 1), lambda a: TF.max_pool1d(a, 3, 2, 1), [x], device, TOL)
    check_op(lambda a: F.avg_pool1d(a, 4, 3), lambda a: TF.avg_pool1d(a, 4, 3), [x], device, TOL)
    check_op(lambda a: F.adaptive_avg_pool1d(a, 5), lambda a: TF.adaptive_avg_pool1d(a, 5), [x], device, TOL)


@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 7), (3, 5, 4, 6)], ids=str)
def test_batch_norm_training_and_eval(device, shape):
    x = randn(shape, seed=8, scale=2.0).requires_grad_()
    w, b = randn((5,), seed=9).requires_grad_(), randn((5,), seed=10).requires_grad_()
    rm_t, rv_t = torch.zeros(5), torch.ones(5)
    rm_v, rv_v = to_vt(rm_t, device), to_vt(rv_t, device)
    check_op(lambda a, c, d: F.batch_norm(a, rm_v, rv_v, c, d, True, 0.2, 1e-5),
             lambda a, c, d: TF.batch_norm(a, rm_t, rv_t, c, d, True, 0.2, 1e-5), [x, w, b], device, TOL)
    assert_close(rm_v, rm_t, **TOL)
    assert_close(rv_v, rv_t, **TOL)
    check_op(lambda a, c, d: F.batch_norm(a, rm_v, rv_v, c, d, False),
             lambda a, c, d: TF.batch_norm(a, rm_t, rv_t, c, d, False), [x, w, b], device, TOL)


@pytest.mark.parametrize("shape,groups", [((4, 6, 5, 5), 3), ((2, 8, 7), 2), ((3, 8), 2)], ids=str)
def test_group_norm(device, shape, groups):
    x = randn(shape, seed=11, scale=2.0).requires_grad_()
    w, b = randn((shape[1],), seed=12).requires_grad_(), randn((shape[1],), seed=13).requires_grad_()
    check_op(lambda a, c, d: F.group_norm(a, groups, c, d), lambda a, c, d: TF.group_norm(a, groups, c, d), [x, w, b],
             device, TOL)
    m = vt.nn.GroupNorm(groups, shape[1]).to(device)
    assert_close(m(to_vt(x, device)), TF.group_norm(x, groups).detach(), **TOL)
    with pytest.raises(ValueError, match="C divisible by num_groups=5"):
        F.group_norm(to_vt(x, device), 5)


def test_batchnorm_module_tracks_batches_and_momentum_none(device):
    bn_t = torch.nn.BatchNorm2d(3, momentum=None)
    bn_v = vt.nn.BatchNorm2d(3, momentum=None).to(device)
    for seed in range(3):
        x = randn((4, 3, 5, 5), seed=seed)
        assert_close(bn_v(to_vt(x, device)), bn_t(x).detach(), **TOL)
    assert int(to_torch(bn_v.num_batches_tracked)) == 3
    assert_close(bn_v.running_var, bn_t.running_var, **TOL)
    bn_v.eval(), bn_t.eval()
    x = randn((2, 3, 5, 5), seed=9)
    assert_close(bn_v(to_vt(x, device)), bn_t(x).detach(), **TOL)
    assert set(dict(bn_v.state_dict())) == set(bn_t.state_dict())


def test_small_cnn_trains_as_torch(device):
    """A LeNet-style CNN (conv, batch norm, max pool, adaptive pool, linear) on 28x28 images, three SGD
    steps from torch's weights: the same losses."""
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(8, 10))

    torch.manual_seed(0)
    tm = build(torch.nn)
    vm = build(vt.nn).to(device)
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    topt, vopt = torch.optim.SGD(tm.parameters(), lr=0.1), vt.optim.SGD(vm.parameters(), lr=0.1)
    for seed in range(3):
        x, y = randn((8, 1, 28, 28), seed=seed), torch.randint(0, 10, (8,), generator=torch.Generator().manual_seed(seed))
        lt = TF.cross_entropy(tm(x), y)
        topt.zero_grad(), lt.backward(), topt.step()
        lv = F.cross_entropy(vm(to_vt(x, device)), to_vt(y, device))
        vopt.zero_grad(), lv.backward(), vopt.step()
        assert abs(lv.item() - lt.item()) < 1e-4 * max(1.0, abs(lt.item()))


@pytest.mark.parametrize("case", [dict(size=(13, 7), mode="nearest"), dict(scale_factor=2, mode="nearest"),
                                  dict(scale_factor=(1.5, 0.7), mode="nearest-exact"),
                                  dict(size=(12, 5), mode="bilinear", align_corners=False),
                                  dict(size=(12, 5), mode="bilinear", align_corners=True),
                                  dict(scale_factor=2.5, mode="bilinear"),
                                  dict(scale_factor=0.5, mode="bilinear", recompute_scale_factor=True)], ids=str)
def test_interpolate_2d(device, case):
    x = randn((2, 3, 6, 9), seed=14).requires_grad_()
    check_op(lambda a: F.interpolate(a, **case), lambda a: TF.interpolate(a, **case), [x], device, TOL)


@pytest.mark.parametrize("case", [dict(size=11, mode="linear"), dict(scale_factor=0.6, mode="linear", align_corners=True),
                                  dict(size=4, mode="nearest")], ids=str)
def test_interpolate_1d(device, case):
    x = randn((2, 3, 8), seed=15).requires_grad_()
    check_op(lambda a: F.interpolate(a, **case), lambda a: TF.interpolate(a, **case), [x], device, TOL)


def test_bad_input(device):
    x = to_vt(randn((1, 4, 8, 8)), device)
    with pytest.raises(ValueError, match=r"conv2d: input of 4 channels, weight \(2, 3, 3, 3\) and groups=1 do not fit"):
        F.conv2d(x, to_vt(randn((2, 3, 3, 3)), device))
    with pytest.raises(ValueError, match="negative padding is not supported"):
        F.conv2d(x, to_vt(randn((2, 4, 3, 3)), device), padding=-1)
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        F.conv2d(x, to_vt(randn((2, 4, 9, 9)), device))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(x, to_vt(randn((2, 4, 3, 3)), device), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be between 0 and half the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="expected a 3-d \\(unbatched\\) or 4-d \\(batched\\) input"):
        F.max_pool2d(to_vt(randn((8, 8)), device), 2)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(to_vt(randn((1, 3)), device), None, None, training=True)
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match="expected 4D input \\(got 3D input\\)"):
        vt.nn.BatchNorm2d(4).to(device)(to_vt(randn((4, 8, 8)), device))


def test_cuda_convolution_follows_cudnn_allow_tf32(device):
    """On CUDA the convolution's GEMMs use TF32 while vt.backends.cudnn.allow_tf32 is True (torch's default for
    its cuDNN convolutions), IEEE float32 when False; the switch is a scope of the convolution only (Note
    [TF32 matmul]): matmul keeps vt.backends.cuda.matmul.allow_tf32 (False)."""
    if device != "cuda":
        pytest.skip("TF32 is a CUDA tensor-core format")
    x0, w0 = randn((4, 64, 16, 16), seed=31), randn((64, 64, 3, 3), seed=32)
    want = TF.conv2d(x0.double(), w0.double(), padding=1)
    x, w = to_vt(x0, device).requires_grad_(), to_vt(w0, device)

    def error(out):
        return ((to_torch(out).double() - want).abs().max() / want.abs().max()).item()

    assert not vt.backends.cuda.matmul.allow_tf32
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=False):
        ieee = error(F.conv2d(x, w, padding=1))
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=True):
        tf32 = error(F.conv2d(x, w, padding=1))
    assert ieee < 1e-6 < tf32 < 1e-2, (ieee, tf32)  # TF32 keeps a 10-bit mantissa
    a, b = randn((256, 576), seed=33), randn((576, 64), seed=34)
    got = to_torch(vt.matmul(to_vt(a, device), to_vt(b, device))).double()
    assert ((got - a.double() @ b.double()).abs().max() / got.abs().max()).item() < 1e-6
