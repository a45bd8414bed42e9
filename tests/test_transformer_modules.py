"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against torch.nn's on every device,
from the same weights (state dicts load both ways): sequence-first and batch-first, unbatched, bool and
float attention masks, key padding masks, causal, the averaged or per-head attention weights, kdim / vdim,
pre- and post-norm layers, forward and backward."""
import pytest
import torch

import vibetensor as vt

from harness import assert_close, randn, to_torch, to_vt

TOL = dict(rtol=1e-4, atol=1e-5)


def _twin(tm, vm, device):
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    return vm.to(device)


def _grads_match(tm, vm):
    tg = {k: p.grad for k, p in tm.named_parameters()}
    for k, p in vm.named_parameters():
        assert_close(p.grad, tg[k], **TOL)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "bool_attn", "float_attn", "padding", "causal"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_multihead_attention(device, batch_first, masks, need_weights, average):
    torch.manual_seed(0)
    E, H, L, S, N = 16, 4, 5, 7, 3
    tm = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    vm = _twin(tm, vt.nn.MultiheadAttention(E, H, batch_first=batch_first), device)
    shape_q, shape_k = ((N, L, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E))
    q, k, v = randn(shape_q, seed=1), randn(shape_k, seed=2), randn(shape_k, seed=3)
    kw = {}
    if masks == "bool_attn":
        kw["attn_mask"] = torch.rand(L, S, generator=torch.Generator().manual_seed(4)) > 0.7
        kw["attn_mask"][:, 0] = False
    elif masks == "float_attn":
        kw["attn_mask"] = randn((L, S), seed=5)
    elif masks == "padding":
        kw["key_padding_mask"] = torch.zeros(N, S, dtype=torch.bool)
        kw["key_padding_mask"][:, -2:] = True
    elif masks == "causal":
        L = S = 5
        shape_q = shape_k = (N, L, E) if batch_first else (L, N, E)
        q, k, v = randn(shape_q, seed=1), randn(shape_k, seed=2), randn(shape_k, seed=3)
        kw["attn_mask"] = torch.ones(L, S, dtype=torch.bool).triu(1)
        kw["is_causal"] = True
    qs = [x.clone().requires_grad_() for x in (q, k, v)]
    out_t, w_t = tm(*qs, need_weights=need_weights, average_attn_weights=average, **kw)
    vkw = {name: to_vt(m, device) if isinstance(m, torch.Tensor) else m for name, m in kw.items()}
    vs = [to_vt(x, device, requires_grad=True) for x in (q, k, v)]
    out_v, w_v = vm(*vs, need_weights=need_weights, average_attn_weights=average, **vkw)
    assert_close(out_v, out_t.detach(), **TOL)
    if need_weights:
        assert_close(w_v, w_t.detach(), **TOL)
    else:
        assert w_v is None
    g = randn(tuple(out_t.shape), seed=6)
    out_t.backward(g)
    out_v.backward(to_vt(g, device))
    for a, b in zip(vs, qs):
        assert_close(a.grad, b.grad, **TOL)
    _grads_match(tm, vm)


def test_unbatched_and_kdim_vdim(device):
    torch.manual_seed(1)
    tm = torch.nn.MultiheadAttention(8, 2, kdim=6, vdim=5)
    vm = _twin(tm, vt.nn.MultiheadAttention(8, 2, kdim=6, vdim=5), device)
    q, k, v = randn((4, 8), seed=1), randn((3, 6), seed=2), randn((3, 5), seed=3)
    out_t, w_t = tm(q, k, v)
    out_v, w_v = vm(*(to_vt(x, device) for x in (q, k, v)))
    assert_close(out_v, out_t.detach(), **TOL)
    assert_close(w_v, w_t.detach(), **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder(device, norm_first, activation):
    torch.manual_seed(2)
    tl = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=activation, batch_first=True,
                                          norm_first=norm_first)
    tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    vl = vt.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=activation, batch_first=True,
                                       norm_first=norm_first)
    vm = _twin(tm, vt.nn.TransformerEncoder(vl, 2, norm=vt.nn.LayerNorm(16)), device)
    assert set(dict(vm.state_dict())) == set(tm.state_dict())
    x = randn((3, 6, 16), seed=7)
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[0, -1] = True
    xt = x.clone().requires_grad_()
    out_t = tm(xt, src_key_padding_mask=mask)
    xv = to_vt(x, device, requires_grad=True)
    out_v = vm(xv, src_key_padding_mask=to_vt(mask, device))
    assert_close(out_v, out_t.detach(), **TOL)
    out_t.sum().backward()
    out_v.sum().backward()
    assert_close(xv.grad, xt.grad, **TOL)
    _grads_match(tm, vm)


@pytest.mark.parametrize("norm_first", [False, True])
def test_full_transformer(device, norm_first):
    """nn.Transformer (encoder and decoder stacks) with a causal target mask and padding masks."""
    torch.manual_seed(3)
    kw = dict(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=24, dropout=0.0,
              batch_first=True, norm_first=norm_first)
    tm = torch.nn.Transformer(**kw)
    vm = _twin(tm, vt.nn.Transformer(**kw), device)
    assert set(dict(vm.state_dict())) == set(tm.state_dict())
    src, tgt = randn((2, 7, 16), seed=1), randn((2, 5, 16), seed=2)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert_close(vt.nn.Transformer.generate_square_subsequent_mask(5), tmask)
    pad = torch.zeros(2, 7, dtype=torch.bool)
    pad[1, -2:] = True
    st, tt = src.clone().requires_grad_(), tgt.clone().requires_grad_()
    out_t = tm(st, tt, tgt_mask=tmask, src_key_padding_mask=pad, memory_key_padding_mask=pad)
    sv, tv = to_vt(src, device, requires_grad=True), to_vt(tgt, device, requires_grad=True)
    out_v = vm(sv, tv, tgt_mask=to_vt(tmask, device), src_key_padding_mask=to_vt(pad, device),
               memory_key_padding_mask=to_vt(pad, device))
    assert_close(out_v, out_t.detach(), **TOL)
    out_t.square().sum().backward()
    out_v.square().sum().backward()
    assert_close(sv.grad, st.grad, **TOL)
    assert_close(tv.grad, tt.grad, **TOL)
    _grads_match(tm, vm)


def test_bad_input(device):
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        vt.nn.MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        vt.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    m = vt.nn.MultiheadAttention(8, 2).to(device)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        m(*(to_vt(randn((3, 2, 6)), device) for _ in range(3)))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        vt.nn.TransformerEncoderLayer(8, 2, activation="tanh")
