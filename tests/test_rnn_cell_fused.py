"""vt::_fused_lstm_cell and vt::_fused_gru_cell (Note [Fused RNN cells] in csrc/ops/rnn_cell_args.h)
against torch's composed cell math on every device: outputs, workspaces and the gradients of the
projections, the previous state and the biases (given or not), float64 and bfloat16, non-contiguous
projections, the backward ops called directly, the refused double backward, and bad arguments."""
import pytest
import torch

import vibetensor as vt

from harness import assert_close, check_op, ops, randn, to_torch, to_vt

TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12),
       torch.bfloat16: dict(rtol=2e-2, atol=2e-2)}


def lstm_ref(xw, hw, c, b_ih=None, b_hh=None):
    """torch's LSTM cell from the projections: (h_new, c_new, workspace = the activated gates i, f, g, o)."""
    gates = xw + hw + (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh)
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_new = f * c + i * g
    return o * c_new.tanh(), c_new, torch.cat([i, f, g, o], 1).detach()


def gru_ref(xw, hw, h, b_ih=None, b_hh=None):
    """torch's GRU cell from the projections: (h_new, workspace = r, z, n, hn, h)."""
    xr, xz, xn = (xw + (0 if b_ih is None else b_ih)).chunk(3, 1)
    hr, hz, hn = (hw + (0 if b_hh is None else b_hh)).chunk(3, 1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h, torch.cat([r, z, n, hn, h], 1).detach()


def cell_inputs(gates, n, hidden, bias, dtype=torch.float32, seed=0):
    g = gates * hidden
    xs = [randn((n, g), dtype, seed=seed, scale=2.0), randn((n, g), dtype, seed=seed + 1, scale=2.0),
          randn((n, hidden), dtype, seed=seed + 2)]
    xs += [randn((g,), dtype, seed=seed + 3), randn((g,), dtype, seed=seed + 4)] if bias else [None, None]
    return [x if x is None else x.requires_grad_() for x in xs]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("n,hidden", [(4, 16), (1, 1), (7, 33)], ids=str)
def test_lstm_cell_matches_torch(device, n, hidden, bias):
    check_op(lambda *a: ops._fused_lstm_cell(*a), lstm_ref, cell_inputs(4, n, hidden, bias), device,
             TOL[torch.float32])


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("n,hidden", [(4, 16), (1, 1), (7, 33)], ids=str)
def test_gru_cell_matches_torch(device, n, hidden, bias):
    check_op(lambda *a: ops._fused_gru_cell(*a), gru_ref, cell_inputs(3, n, hidden, bias), device, TOL[torch.float32])


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16], ids=["f64", "bf16"])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_dtypes(device, kind, dtype):
    gates, ref = (4, lstm_ref) if kind == "lstm" else (3, gru_ref)
    # bfloat16: torch computes each op in bfloat16, the fused cell in float32, so compare with float32 math
    cast = (lambda f: f) if dtype == torch.float64 else (
        lambda f: lambda *a: tuple(o.to(dtype) for o in f(*[x if x is None else x.float() for x in a])))
    check_op(lambda *a: getattr(ops, f"_fused_{kind}_cell")(*a), cast(ref), cell_inputs(gates, 5, 8, True, dtype),
             device, TOL[dtype])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_non_contiguous_projections(device, kind):
    gates, ref = (4, lstm_ref) if kind == "lstm" else (3, gru_ref)
    xs = cell_inputs(gates, 6, 5, True, seed=7)
    base = randn((gates * 5, 6), seed=20, scale=2.0)  # xw as the transpose of a [G*H, N] tensor
    xs[0] = base.t().clone().requires_grad_()
    vts = [to_vt(base, device).transpose(0, 1)] + [to_vt(x.detach(), device) for x in xs[1:]]
    check_op(lambda *a: getattr(ops, f"_fused_{kind}_cell")(*a), ref, xs, device, TOL[torch.float32], vt_inputs=vts)


def test_lstm_gradient_of_h_alone(device):
    """Only h_new reaches the loss: c_new's gradient is zero, and the state still gets one through h."""
    xs = cell_inputs(4, 3, 6, False, seed=11)
    check_op(lambda *a: ops._fused_lstm_cell(*a)[0], lambda *a: lstm_ref(*a)[0], xs, device, TOL[torch.float32])


def test_backward_ops_directly(device):
    xw, hw, c = (randn(s, seed=k) for k, s in enumerate([(3, 8), (3, 8), (3, 2)]))
    gh, gc = randn((3, 2), seed=5), randn((3, 2), seed=6)
    _, c_new, ws = ops._fused_lstm_cell(to_vt(xw, device), to_vt(hw, device), to_vt(c, device))
    d_gates, dc = ops._fused_lstm_cell_backward(to_vt(gh, device), to_vt(gc, device), to_vt(c, device), c_new, ws)
    pre = (xw + hw).requires_grad_()
    c_t = c.clone().requires_grad_()
    h_t, c_new_t, _ = lstm_ref(pre, torch.zeros_like(pre), c_t)
    torch.autograd.backward([h_t, c_new_t], [gh, gc])
    assert_close(d_gates, pre.grad, **TOL[torch.float32])
    assert_close(dc, c_t.grad, **TOL[torch.float32])

    xw, hw, h = (randn(s, seed=k) for k, s in enumerate([(3, 6), (3, 6), (3, 2)]))
    _, ws = ops._fused_gru_cell(to_vt(xw, device), to_vt(hw, device), to_vt(h, device))
    d_xw, d_hw, dh = ops._fused_gru_cell_backward(to_vt(gh, device), ws)
    leaves = [t.clone().requires_grad_() for t in (xw, hw, h)]
    gru_ref(*leaves)[0].backward(gh)
    for got, leaf in zip((d_xw, d_hw, dh), leaves):
        assert_close(got, leaf.grad, **TOL[torch.float32])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_double_backward_is_refused(device, kind):
    gates = 4 if kind == "lstm" else 3
    xw, hw, state = (to_vt(t, device, requires_grad=True) for t in cell_inputs(gates, 2, 3, False)[:3])
    h = getattr(ops, f"_fused_{kind}_cell")(xw, hw, state)[0]
    with pytest.raises(NotImplementedError, match=f"_fused_{kind}_cell: double backward \\(create_graph=True\\)"):
        vt.autograd.grad((h * h).sum(), [xw], create_graph=True)
    h = getattr(ops, f"_fused_{kind}_cell")(xw, hw, state)[0]
    (g,) = vt.autograd.grad((h * h).sum(), [xw])  # a first-order gradient still works
    assert tuple(g.shape) == (2, gates * 3)


def test_bad_arguments(device):
    def t(*shape, dtype=torch.float32):
        return to_vt(torch.zeros(shape, dtype=dtype), device)
    cases = [
        (lambda: ops._fused_lstm_cell(t(2, 7), t(2, 7), t(2, 1)), ValueError,
         r"_fused_lstm_cell: expected xw of shape \[N, 4 \* hidden_size\], got \[2, 7\]"),
        (lambda: ops._fused_lstm_cell(t(8), t(8), t(2)), ValueError, r"expected xw of shape \[N, 4 \* hidden_size\]"),
        (lambda: ops._fused_lstm_cell(t(2, 8), t(3, 8), t(2, 2)), ValueError,
         r"_fused_lstm_cell: expected hw of shape \[2, 8\], got \[3, 8\]"),
        (lambda: ops._fused_lstm_cell(t(2, 8), t(2, 8), t(2, 3)), ValueError,
         r"_fused_lstm_cell: expected c of shape \[2, 2\], got \[2, 3\]"),
        (lambda: ops._fused_lstm_cell(t(2, 8), t(2, 8), t(2, 2), t(4)), ValueError,
         r"_fused_lstm_cell: expected b_ih of shape \[8\], got \[4\]"),
        (lambda: ops._fused_gru_cell(t(2, 6), t(2, 6), t(2, 2), None, t(2, 6)), ValueError,
         r"_fused_gru_cell: expected b_hh of shape \[6\], got \[2, 6\]"),
        (lambda: ops._fused_gru_cell(t(2, 6), t(2, 6, dtype=torch.float64), t(2, 2)), TypeError,
         r"_fused_gru_cell: expected hw of xw's dtype float32, got float64"),
        (lambda: ops._fused_gru_cell(t(2, 6, dtype=torch.int64), t(2, 6, dtype=torch.int64), t(2, 2, dtype=torch.int64)),
         TypeError, r"_fused_gru_cell: expected a floating point xw, got int64"),
        (lambda: ops._fused_lstm_cell_backward(t(2, 2), t(2, 2), t(2, 2), t(2, 3), t(2, 8)), ValueError,
         r"_fused_lstm_cell_backward: expected c_new of shape \[2, 2\], got \[2, 3\]"),
        (lambda: ops._fused_gru_cell_backward(t(2, 2), t(2, 8)), ValueError,
         r"_fused_gru_cell_backward: expected workspace of shape \[N, 5 \* hidden_size\], got \[2, 8\]"),
        (lambda: ops._fused_gru_cell_backward(t(2, 2, dtype=torch.float64), t(2, 10)), TypeError,
         r"_fused_gru_cell_backward: expected grad_h of workspace's dtype float32, got float64"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()


def test_state_on_another_device_is_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device: the state goes to the CPU while the gates are on CUDA")
    z = torch.zeros(2, 8)
    with pytest.raises(RuntimeError, match="_fused_lstm_cell: expected c on xw's device cuda:0, got cpu"):
        ops._fused_lstm_cell(to_vt(z, device), to_vt(z, device), to_vt(torch.zeros(2, 2)))
