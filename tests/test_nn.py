"""nn against torch: Module registration and traversal, state_dict round trips (also from torch),
errors, modes, repr, Parameter, layers, functional, init and clip_grad."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import assert_close


def _pair_models():
    """The same architecture in both libraries."""
    def build(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 8)
                self.norm = nn.LayerNorm(8)
                self.act = nn.GELU()
                self.register_buffer("scale", (torch if nn is torch.nn else vt).ones(8))
                self.register_buffer("cache", (torch if nn is torch.nn else vt).zeros(2), persistent=False)

            def forward(self, x):
                return self.act(self.norm(self.fc(x))) * self.scale

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 4)
                self.blocks = nn.ModuleList([Block(), Block()])
                self.head = nn.Sequential(nn.Linear(8, 3, bias=False), nn.Dropout(0.1))
                self.extra = nn.Parameter((torch if nn is torch.nn else vt).zeros(3))

            def forward(self, idx):
                h = self.emb(idx)
                for b in self.blocks:
                    h = b(h[..., :4] if h.shape[-1] == 8 else h)
                return self.head(h) + self.extra
        return Net()
    return build(vt.nn), build(torch.nn)


def test_parameter_and_buffer_names_match_torch():
    m, tm = _pair_models()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in tm.parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in tm.named_children()]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["extra"]
    assert len(list(m.modules())) == len(list(tm.modules()))
    assert all(isinstance(p, vt.nn.Parameter) and p.requires_grad and p.is_leaf for p in m.parameters())


def test_module_repr_matches_torch():
    m, tm = _pair_models()
    assert repr(m) == repr(tm)
    assert repr(vt.nn.RMSNorm(6)) == repr(torch.nn.RMSNorm(6))
    assert repr(vt.nn.Embedding(5, 3, padding_idx=0)) == repr(torch.nn.Embedding(5, 3, padding_idx=0))
    assert repr(vt.nn.ReLU()) == repr(torch.nn.ReLU()) and repr(vt.nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))
    assert repr(vt.nn.ModuleList([vt.nn.ReLU(), vt.nn.ReLU(), vt.nn.Identity()])) == \
        repr(torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Identity()]))
    assert repr(vt.nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(vt.nn.Softmax(dim=-1)) == repr(torch.nn.Softmax(dim=-1))


def test_parameter():
    t = vt.ones(2, 2)
    p = vt.nn.Parameter(t)
    assert isinstance(p, vt.Tensor) and isinstance(p, vt.nn.Parameter)
    assert p.requires_grad and p.is_leaf and p._storage_id() == t._storage_id() and not t.requires_grad
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2, 2))).replace("torch.", "vibetensor.")
    assert not vt.nn.Parameter(t, requires_grad=False).requires_grad
    assert vt.nn.Parameter().shape == (0,)
    # Ops on a parameter give plain tensors; in-place ops keep the Parameter.
    assert type(p * 2) is vt.Tensor
    with vt.no_grad():
        q = p
        q += 1
        assert q is p and p.mul_(2) is p
    assert p.tolist() == [[4.0, 4.0], [4.0, 4.0]]
    with pytest.raises(TypeError, match="Tensor"):
        vt.nn.Parameter([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        vt.nn.Parameter(vt.ones(2, dtype=vt.int64))
    d = copy.deepcopy(p)
    assert isinstance(d, vt.nn.Parameter) and d._storage_id() != p._storage_id() and d.tolist() == p.tolist()


def test_setattr_registration_rules():
    m = vt.nn.Module()
    m.w = vt.nn.Parameter(vt.ones(2))
    m.sub = vt.nn.Linear(2, 2)
    m.plain = vt.ones(2)
    m.register_buffer("buf", vt.zeros(1))
    assert set(m._parameters) == {"w"} and set(m._modules) == {"sub"} and set(m._buffers) == {"buf"}
    assert "plain" in m.__dict__
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = vt.ones(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.buf = vt.ones(3)
    assert m.buf.shape == (3,)
    with pytest.raises(TypeError, match="buffer"):
        m.buf = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("sub", vt.ones(1))
    with pytest.raises(KeyError, match=r"contain \"\.\""):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("x", vt.ones(1))
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope
    del m.sub
    assert "sub" not in m._modules

    class Early(vt.nn.Module):
        def __init__(self):
            self.w = vt.nn.Parameter(vt.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        vt.nn.Module()(1)


def test_state_dict_round_trip():
    m, _ = _pair_models()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict) and "blocks.0.cache" not in sd
    assert all(not v.requires_grad for v in sd.values())
    assert sd["head.0.weight"]._storage_id() == m.head[0].weight._storage_id()
    m2, _ = _pair_models()
    result = m2.load_state_dict(sd)
    assert repr(result) == "<All keys matched successfully>" and result.missing_keys == []
    for (n, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert a.tolist() == b.tolist(), n
    # Loading copies values: the loaded model does not share memory with the source.
    assert m2.head[0].weight._storage_id() != m.head[0].weight._storage_id()
    assert m.state_dict(keep_vars=True)["extra"] is m.extra


def test_load_state_dict_from_torch():
    m, tm = _pair_models()
    result = m.load_state_dict(tm.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, a), (_, b) in zip(m.state_dict().items(), tm.state_dict().items()):
        assert_close(a, b)
    # And the other way, through numpy.
    tm2 = _pair_models()[1]
    tm2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    assert torch.equal(tm2.head[0].weight, tm.head[0].weight)


def test_load_state_dict_errors_like_torch():
    m, tm = vt.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    bad = {"weight": vt.ones(2, 3), "foo": vt.ones(1)}
    tbad = {"weight": torch.ones(2, 3), "foo": torch.ones(1)}
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict(tbad)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(bad)
    assert str(e.value) == str(te.value)
    assert 'Missing key(s) in state_dict: "bias"' in str(e.value)
    assert 'Unexpected key(s) in state_dict: "foo"' in str(e.value)
    result = m.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["foo"]
    assert m.weight.tolist() == [[1.0] * 3] * 2
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape \[3, 3\] from "
                                           r"checkpoint, the shape in current model is \[2, 3\]"):
        m.load_state_dict({"weight": vt.ones(3, 3), "bias": vt.ones(2)})
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"weight": vt.ones(3, 3)}, strict=False)
    with pytest.raises(RuntimeError, match="expected a Tensor"):
        m.load_state_dict({"weight": [1.0], "bias": vt.ones(2)})


def test_load_state_dict_assign():
    m = vt.nn.Linear(2, 2)
    w = vt.full((2, 2), 3.0)
    m.load_state_dict({"weight": w, "bias": vt.zeros(2)}, assign=True)
    assert m.weight._storage_id() == w._storage_id() and isinstance(m.weight, vt.nn.Parameter)


def test_train_eval_zero_grad_requires_grad():
    m, _ = _pair_models()
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")
    for p in m.parameters():
        p.grad = vt.ones_like(p)
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_to_and_dtype_conversion():
    m = vt.nn.Sequential(vt.nn.Linear(2, 3), vt.nn.ReLU())
    m.register_buffer("steps", vt.zeros(1, dtype=vt.int64))
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential"]
    w = m[0].weight
    assert m.to("cpu") is m and m[0].weight is w  # nothing changes: the same Parameter
    m.double()
    assert m[0].weight.dtype is vt.float64 and isinstance(m[0].weight, vt.nn.Parameter)
    assert m[0].weight.tolist() == w.double().tolist() and m.steps.dtype is vt.int64
    m.to(vt.float32)
    assert m[0].weight.dtype is vt.float32
    assert m.cpu() is m
    with pytest.raises(TypeError, match="floating point"):
        m.to(vt.int64)


def test_containers():
    layers = [vt.nn.Linear(2, 2), vt.nn.ReLU(), vt.nn.Identity()]
    s = vt.nn.Sequential(*layers)
    assert len(s) == 3 and s[1] is layers[1] and s[-1] is layers[2] and list(s) == layers
    assert isinstance(s[:2], vt.nn.Sequential) and len(s[:2]) == 2
    s.append(vt.nn.ReLU())
    assert len(s) == 4
    del s[0]
    assert [n for n, _ in s.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        s[10]
    named = vt.nn.Sequential(OrderedDict(a=vt.nn.ReLU(), b=vt.nn.Identity()))
    assert [n for n, _ in named.named_children()] == ["a", "b"]
    x = vt.tensor([-1.0, 2.0])
    assert named(x).tolist() == [0.0, 2.0]
    ml = vt.nn.ModuleList([vt.nn.ReLU()])
    ml.append(vt.nn.Identity()).extend([vt.nn.ReLU()])
    ml.insert(0, vt.nn.Identity())
    assert [type(x).__name__ for x in ml] == ["Identity", "ReLU", "Identity", "ReLU"]
    ml[0] = vt.nn.ReLU()
    assert isinstance(ml[0], vt.nn.ReLU) and len(ml[1:]) == 3
    md = vt.nn.ModuleDict({"x": vt.nn.ReLU()})
    md["y"] = vt.nn.Linear(1, 1)
    assert list(md) == ["x", "y"] and "y" in md and len(md) == 2 and len(list(md.parameters())) == 2
    assert list(md.keys()) == ["x", "y"] and md.pop("x") is not None and len(md) == 1


def test_identity_activation_dropout_modules(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    for mod, tmod in [(vt.nn.ReLU(), torch.nn.ReLU()), (vt.nn.GELU(), torch.nn.GELU()),
                      (vt.nn.GELU("tanh"), torch.nn.GELU("tanh")), (vt.nn.SiLU(), torch.nn.SiLU()),
                      (vt.nn.Tanh(), torch.nn.Tanh()), (vt.nn.Sigmoid(), torch.nn.Sigmoid()),
                      (vt.nn.Identity(3, k=1), torch.nn.Identity(3, k=1))]:
        assert_close(mod(x), tmod(tx), rtol=1e-5, atol=1e-6)
    d = vt.nn.Dropout(0.5).eval()
    assert d(x) is x
    assert vt.nn.functional.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        vt.nn.Dropout(1.5)
    with pytest.raises(ValueError, match="approximate"):
        vt.nn.GELU("fast")
    r = vt.tensor(a)
    assert vt.nn.functional.relu(r, inplace=True) is r and r.tolist() == np.maximum(a, 0).tolist()


def test_linear_init_bounds_and_shapes():
    vt.manual_seed(0)
    m = vt.nn.Linear(16, 5)
    bound = 1 / math.sqrt(16)
    assert m.weight.shape == (5, 16) and m.bias.shape == (5,)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > bound * 0.8
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert m.weight.dtype is vt.float32
    assert vt.nn.Linear(2, 3, dtype=vt.float64).weight.dtype is vt.float64
    assert vt.nn.Linear(2, 3, bias=False).bias is None
    e = vt.nn.Embedding(1000, 8, padding_idx=3)
    v = e.weight.detach().numpy()
    assert abs(v.std() - 1) < 0.05 and not v[3].any()
    ln = vt.nn.LayerNorm((2, 3))
    assert ln.normalized_shape == (2, 3) and ln.weight.tolist() == [[1.0] * 3] * 2 and ln.bias.detach().numpy().sum() == 0
    rms = vt.nn.RMSNorm(4, elementwise_affine=False)
    assert rms.weight is None and rms.normalized_shape == (4,)


def test_init_functions():
    t = vt.empty(64, 32)
    assert vt.nn.init.zeros_(t) is t and not t.numpy().any()
    vt.nn.init.ones_(t)
    assert (t.numpy() == 1).all()
    vt.nn.init.constant_(t, 0.5)
    assert (t.numpy() == 0.5).all()
    vt.nn.init.uniform_(t, -0.1, 0.2)
    assert t.numpy().min() >= -0.1 and t.numpy().max() <= 0.2
    vt.nn.init.normal_(t, 2.0, 0.5)
    assert abs(t.numpy().mean() - 2.0) < 0.05
    vt.nn.init.xavier_uniform_(t)
    a = math.sqrt(6 / (64 + 32))
    assert np.abs(t.numpy()).max() <= a
    vt.nn.init.xavier_normal_(t, gain=2.0)
    assert abs(t.numpy().std() - 2.0 * math.sqrt(2 / 96)) < 0.02
    p = vt.nn.Parameter(vt.empty(4, 4))
    vt.nn.init.kaiming_uniform_(p, a=math.sqrt(5))  # works on leaves requiring grad (runs under no_grad)
    assert p.requires_grad and p.grad_fn is None
    assert vt.nn.init.calculate_gain("relu") == torch.nn.init.calculate_gain("relu")
    assert vt.nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        vt.nn.init.xavier_uniform_(vt.empty(3))


def test_clip_grad_value():
    p = vt.nn.Parameter(vt.zeros(4))
    p.grad = vt.tensor([-3.0, -0.5, 0.5, 3.0])
    vt.nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, -0.5, 0.5, 1.0]


def test_embedding_padding_idx_values_and_grads(rng):
    w = rng.standard_normal((6, 3)).astype(np.float32)
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    for make in (torch, vt):
        weight = make.tensor(w, requires_grad=True)
        out = make.nn.functional.embedding(make.tensor(idx), weight, padding_idx=2)
        out.backward(make.ones(2, 3, 3))
        if make is torch:
            ref_out, ref_g = out, weight.grad
        else:
            assert_close(out, ref_out)
            assert_close(weight.grad, ref_g)


@pytest.mark.parametrize("padding_idx, error", [(6, ValueError), (-7, ValueError), (10, ValueError), (1.5, TypeError),
                                                  (True, TypeError)])
def test_embedding_padding_idx_out_of_range_is_refused(padding_idx, error):
    # 10 % 6 would silently make row 4 the padding row
    w = vt.randn(6, 3, requires_grad=True)
    with pytest.raises(error, match="padding_idx"):
        vt.nn.functional.embedding(vt.tensor([0, 4]), w, padding_idx=padding_idx)
    with pytest.raises(ValueError, match="padding_idx 0 is out of range for a weight of 0 rows"):
        vt.nn.functional.embedding(vt.tensor([], dtype=vt.int64), vt.randn(0, 3), padding_idx=0)


def test_embedding_of_zero_width_rows_has_a_zero_width_gradient():
    for make in (torch, vt):
        w = make.randn(3, 0, requires_grad=True)
        make.nn.functional.embedding(make.tensor([0, 2, 2]), w, padding_idx=1).sum().backward()
        assert tuple(w.grad.shape) == (3, 0)


# --- layers: forward and backward against torch ------------------------------------------

def test_model_forward_backward_matches_torch(rng):
    m, tm = _pair_models()
    m.load_state_dict(tm.state_dict())
    m.eval()
    tm.eval()
    idx = rng.integers(0, 10, (2, 5))
    out, ref = m(vt.tensor(idx)), tm(torch.tensor(idx))
    assert_close(out, ref, rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(vt.tensor(g))
    ref.backward(torch.tensor(g))
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-4, atol=1e-5)


def test_functional_layers_match_torch(rng):
    F, TF = vt.nn.functional, torch.nn.functional
    a = rng.standard_normal((2, 3, 8)).astype(np.float32)
    w = rng.standard_normal(8).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    x, tx = vt.tensor(a), torch.tensor(a)
    assert_close(F.layer_norm(x, (8,), vt.tensor(w), vt.tensor(b)), TF.layer_norm(tx, (8,), torch.tensor(w),
                                                                                     torch.tensor(b)), rtol=1e-4)
    assert_close(F.rms_norm(x, (8,), vt.tensor(w)), TF.rms_norm(tx, (8,), torch.tensor(w)), rtol=1e-4)
    assert_close(F.rms_norm(x, [8], eps=1e-3), TF.rms_norm(tx, [8], eps=1e-3), rtol=1e-4)
    assert_close(F.softmax(x, dim=-1), TF.softmax(tx, dim=-1))
    assert_close(F.log_softmax(x, 1), TF.log_softmax(tx, 1), rtol=1e-5)
    lin_w = rng.standard_normal((4, 8)).astype(np.float32)
    assert_close(F.linear(x, vt.tensor(lin_w)), TF.linear(tx, torch.tensor(lin_w)), rtol=1e-4, atol=1e-5)
    assert_close(vt.nn.RMSNorm(8)(x), torch.nn.RMSNorm(8)(tx), rtol=1e-4)
    assert_close(vt.nn.LayerNorm(8)(x), torch.nn.LayerNorm(8)(tx), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(rng, reduction):
    F, TF = vt.nn.functional, torch.nn.functional
    logits = rng.standard_normal((6, 5)).astype(np.float32)
    target = np.array([0, 4, 2, -100, 1, 3])
    for make, f in ((torch, TF), (vt, F)):
        x = make.tensor(logits, requires_grad=True)
        loss = f.cross_entropy(x, make.tensor(target), reduction=reduction)
        loss.backward(make.ones(tuple(loss.shape)))
        if make is torch:
            ref, ref_g = loss, x.grad
        else:
            assert_close(loss, ref, rtol=1e-5)
            assert_close(x.grad, ref_g, rtol=1e-5)
    k = rng.standard_normal((2, 5, 3)).astype(np.float32)  # (N, C, d1)
    kt = rng.integers(0, 5, (2, 3))
    assert_close(F.cross_entropy(vt.tensor(k), vt.tensor(kt), reduction=reduction),
                 TF.cross_entropy(torch.tensor(k), torch.tensor(kt), reduction=reduction), rtol=1e-5)
    lp = np.log(np.abs(logits) + 0.1)
    assert_close(F.nll_loss(vt.tensor(lp), vt.tensor(np.abs(target) % 5), reduction=reduction),
                 TF.nll_loss(torch.tensor(lp), torch.tensor(np.abs(target) % 5), reduction=reduction), rtol=1e-5)
    y = rng.standard_normal((6, 5)).astype(np.float32)
    assert_close(F.mse_loss(vt.tensor(logits), vt.tensor(y), reduction=reduction),
                 TF.mse_loss(torch.tensor(logits), torch.tensor(y), reduction=reduction), rtol=1e-5)
    assert_close(vt.nn.CrossEntropyLoss(reduction=reduction)(vt.tensor(logits), vt.tensor(target)),
                 torch.nn.CrossEntropyLoss(reduction=reduction)(torch.tensor(logits), torch.tensor(target)))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.mse_loss(vt.tensor(y), vt.tensor(y), reduction="avg")


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention(rng, causal):
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    out = vt.nn.functional.scaled_dot_product_attention(vt.tensor(q), vt.tensor(k), vt.tensor(v), is_causal=causal)
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                           is_causal=causal)
    assert_close(out, ref, rtol=1e-4, atol=1e-5)
    mask = rng.standard_normal((5, 5)).astype(np.float32)
    out = vt.nn.functional.scaled_dot_product_attention(vt.tensor(q), vt.tensor(k), vt.tensor(v),
                                                        attn_mask=vt.tensor(mask), scale=0.3)
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                           attn_mask=torch.tensor(mask), scale=0.3)
    assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_dropout_training(rng):
    vt.manual_seed(0)
    x = vt.ones(10000)
    y = vt.nn.Dropout(0.25)(x)
    v = y.numpy()
    assert set(np.unique(v).tolist()) <= {0.0, float(np.float32(1 / 0.75))} and abs((v == 0).mean() - 0.25) < 0.03


def test_clip_grad_norm_matches_torch(rng):
    grads = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (5,)]]
    for norm_type in [2.0, 1.0, math.inf]:
        ps = [vt.nn.Parameter(vt.zeros(*g.shape)) for g in grads]
        tps = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
        for p, tp, g in zip(ps, tps, grads):
            p.grad, tp.grad = vt.tensor(g), torch.tensor(g)
        total = vt.nn.utils.clip_grad_norm_(ps, 1.0, norm_type)
        ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type)
        assert_close(total, ttotal, rtol=1e-5)
        for p, tp in zip(ps, tps):
            assert_close(p.grad, tp.grad, rtol=1e-5)
    assert vt.nn.utils.clip_grad_norm_([vt.nn.Parameter(vt.zeros(2))], 1.0).item() == 0.0
