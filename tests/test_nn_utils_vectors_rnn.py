"""nn.utils.parameters_to_vector / vector_to_parameters and nn.utils.rnn (Note [Packed sequences]) against torch:
the vector and its gradient, copying it back, pad_sequence forward and backward (batch_first, padding_side,
padding_value), pack_padded_sequence / pad_packed_sequence (sorted and not, total_length, gradients through the
round trip), pack_sequence / unpack_sequence / unpad_sequence, and RNN, LSTM and GRU on packed input (outputs,
final states and every gradient, layers, bidirectional, initial states); torch's errors."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import vibetensor as vt
import vibetensor.nn.utils.rnn as vrnn
from vibetensor.nn.utils import parameters_to_vector, vector_to_parameters

from harness import assert_close, check_op, randn, requires_cuda, to_torch, to_vt

TOL = dict(rtol=1e-4, atol=2e-5)


def _twin(tm, vm, device="cpu"):
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    return vm.to(device)


def _linear_pair(device="cpu"):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    return tm, _twin(tm, vt.nn.Sequential(vt.nn.Linear(3, 4), vt.nn.Linear(4, 2)), device)


# ---- parameters as a vector ----------------------------------------------------------------------------------

def test_parameters_to_vector_and_its_gradient(device):
    tm, vm = _linear_pair(device)
    tv, vv = torch.nn.utils.parameters_to_vector(tm.parameters()), parameters_to_vector(vm.parameters())
    assert_close(vv, tv.detach())
    w = randn(tuple(tv.shape), seed=1)
    (tv * w).sum().backward()
    (vv * to_vt(w, device)).sum().backward()
    for pt, pv in zip(tm.parameters(), vm.parameters()):
        assert_close(pv.grad, pt.grad)


def test_vector_to_parameters(device):
    tm, vm = _linear_pair(device)
    vec = randn((sum(p.numel() for p in tm.parameters()),), seed=2)
    torch.nn.utils.vector_to_parameters(vec, tm.parameters())
    vector_to_parameters(to_vt(vec, device), vm.parameters())
    for (name, pt), pv in zip(tm.named_parameters(), vm.parameters()):
        assert_close(pv, pt.detach())
        assert isinstance(pv, vt.nn.Parameter) and pv.requires_grad, name
    assert_close(parameters_to_vector(vm.parameters()), vec)  # the round trip


def test_vector_errors():
    _, vm = _linear_pair()
    n = sum(p.numel() for p in vm.parameters())
    for bad in ([1.0], np.zeros(n)):
        with pytest.raises(TypeError) as ref:
            torch.nn.utils.vector_to_parameters(bad, [torch.nn.Parameter(torch.zeros(1))])
        with pytest.raises(TypeError) as ours:
            vector_to_parameters(bad, vm.parameters())
        assert str(ours.value) == str(ref.value)
    with pytest.raises(ValueError, match="expected a 1-D vector, got a tensor of shape"):
        vector_to_parameters(vt.zeros(n, 1), vm.parameters())
    with pytest.raises(ValueError, match=f"vec has {n + 1} elements, the parameters {n}"):
        vector_to_parameters(vt.zeros(n + 1), vm.parameters())
    with pytest.raises(TypeError, match="vec is vibetensor.float64, parameter 0 is vibetensor.float32"):
        vector_to_parameters(vt.zeros(n, dtype=vt.float64), vm.parameters())
    with pytest.raises(TypeError, match="expected an iterable of Tensors"):
        parameters_to_vector([vt.zeros(2), 3.0])


@requires_cuda
def test_parameters_on_two_devices_are_refused():
    params = [vt.nn.Parameter(vt.zeros(2)), vt.nn.Parameter(vt.zeros(2, device="cuda"))]
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        parameters_to_vector(params)
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        vector_to_parameters(vt.zeros(4), params)


# ---- pad_sequence ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 3)])
def test_pad_sequence_matches_torch(device, batch_first, padding_side, trailing):
    seqs = [randn((n,) + trailing, seed=i).requires_grad_() for i, n in enumerate((4, 1, 6, 6))]
    kw = dict(batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    check_op(lambda *xs: vrnn.pad_sequence(list(xs), **kw), lambda *xs: trnn.pad_sequence(list(xs), **kw), seqs, device)


def test_pad_sequence_inputs():
    a, b = randn((3, 2), seed=1), randn((5, 2), seed=2)
    assert_close(vrnn.pad_sequence((to_vt(a), to_vt(b))), trnn.pad_sequence((a, b)))  # a tuple
    assert_close(vrnn.pad_sequence(to_vt(b)), trnn.pad_sequence(b))  # a tensor: its rows
    mixed = vrnn.pad_sequence([to_vt(a), to_vt(b.double())])
    assert mixed.dtype == vt.float32  # the first sequence's dtype, as torch's
    ints = vrnn.pad_sequence([vt.tensor([1, 2]), vt.tensor([3])], padding_value=7)
    assert ints.tolist() == [[1, 3], [2, 7]]


def test_pad_sequence_shape_errors():
    with pytest.raises(RuntimeError, match=r"sequence 1 has trailing dimensions \(3,\), sequence 0 \(2,\)"):
        vrnn.pad_sequence([vt.zeros(3, 2), vt.zeros(2, 3)])
    with pytest.raises(RuntimeError, match="sequence 0 is a 0-d tensor"):
        vrnn.pad_sequence([vt.zeros(()), vt.zeros(())])
    with pytest.raises(TypeError, match="item 1 is list"):
        vrnn.pad_sequence([vt.zeros(2), [1.0]])


# ---- packing -----------------------------------------------------------------------------------------------------

LENGTHS = [(5, 3, 2, 1), (2, 5, 1, 4), (3, 3, 3, 3), (6,)]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch(device, lengths, batch_first):
    T, B = max(lengths), len(lengths)
    x = randn((B, T, 3) if batch_first else (T, B, 3), seed=3)
    sorted_ = list(lengths) == sorted(lengths, reverse=True)
    enforce = sorted_ and lengths != (3, 3, 3, 3)
    xt, xv = x.clone().requires_grad_(), to_vt(x, device, requires_grad=True)
    pt = trnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce)
    pv = vrnn.pack_padded_sequence(xv, list(lengths), batch_first=batch_first, enforce_sorted=enforce)
    assert isinstance(pv, vrnn.PackedSequence)
    assert pv.batch_sizes.tolist() == pt.batch_sizes.tolist() and pv.batch_sizes.device == vt.device("cpu")
    if len(set(lengths)) == len(lengths) or enforce:  # (ties may sort either way: only the round trip is checked)
        assert_close(pv.data, pt.data.detach())
        for ours, ref in ((pv.sorted_indices, pt.sorted_indices), (pv.unsorted_indices, pt.unsorted_indices)):
            assert (ours is None) == (ref is None) and (ref is None or ours.tolist() == ref.tolist())
    padded_t, len_t = trnn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.0, total_length=T + 2)
    padded_v, len_v = vrnn.pad_packed_sequence(pv, batch_first=batch_first, padding_value=-1.0, total_length=T + 2)
    assert_close(padded_v, padded_t.detach())
    assert len_v.tolist() == len_t.tolist() and len_v.dtype == vt.int64
    w = randn(tuple(padded_t.shape), seed=4)
    (padded_t * w).sum().backward()
    (padded_v * to_vt(w, device)).sum().backward()
    assert_close(xv.grad, xt.grad)  # zero where padding was dropped


def test_pack_sequence_unpack_and_unpad_match_torch():
    seqs = [randn((n, 2), seed=n) for n in (2, 4, 1)]
    pt = trnn.pack_sequence(seqs, enforce_sorted=False)
    pv = vrnn.pack_sequence([to_vt(s) for s in seqs], enforce_sorted=False)
    assert_close(pv.data, pt.data)
    for ours, ref in zip(vrnn.unpack_sequence(pv), trnn.unpack_sequence(pt)):
        assert_close(ours, ref)
    padded = trnn.pad_sequence(seqs)
    lengths = torch.tensor([2, 4, 1])
    for ours, ref in zip(vrnn.unpad_sequence(to_vt(padded), to_vt(lengths)), trnn.unpad_sequence(padded, lengths)):
        assert_close(ours, ref)
    assert pv.to(vt.float64).data.dtype == vt.float64 and pv.to(vt.float32) is pv
    assert pv.double().unsorted_indices.tolist() == pv.unsorted_indices.tolist()
    assert vrnn.invert_permutation(vt.tensor([2, 0, 1])).tolist() == [1, 2, 0]


@pytest.mark.parametrize("call", [
    lambda rnn, lib: rnn.pad_sequence([]),
    lambda rnn, lib: rnn.pad_sequence(5),
    lambda rnn, lib: rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
    lambda rnn, lib: rnn.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, 3]),
    lambda rnn, lib: rnn.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2]),
    lambda rnn, lib: rnn.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, 0]),
    lambda rnn, lib: rnn.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, -1], enforce_sorted=False),
])
def test_pad_and_pack_errors_are_torch(call):
    with pytest.raises(RuntimeError) as ref:
        call(trnn, torch)
    with pytest.raises(RuntimeError) as ours:
        call(vrnn, vt)
    assert str(ours.value) == str(ref.value)


def test_pad_packed_errors():
    x = [randn((4, 3, 2), seed=5), (4, 2, 1)]
    with pytest.raises(ValueError) as ref:
        trnn.pad_packed_sequence(trnn.pack_padded_sequence(*x), total_length=3)
    with pytest.raises(ValueError) as ours:
        vrnn.pad_packed_sequence(vrnn.pack_padded_sequence(to_vt(x[0]), x[1]), total_length=3)
    assert str(ours.value) == str(ref.value)
    # torch reads past the input here; vibetensor refuses
    with pytest.raises(RuntimeError, match="the longest length is 5, but the input has 4 time steps"):
        vrnn.pack_padded_sequence(to_vt(x[0]), [5, 2, 1])
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        vrnn.pad_packed_sequence(to_vt(x[0]))


# ---- recurrent layers on packed input -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("lengths", [(5, 3, 3, 1), (2, 5, 1, 4)])
def test_recurrent_layers_on_packed_input_match_torch(device, kind, layers, bidir, with_state, lengths):
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=True)
    tm = getattr(torch.nn, kind)(3, 4, **kw)
    vm = _twin(tm, getattr(vt.nn, kind)(3, 4, **kw), device)
    B, T, D = len(lengths), max(lengths), layers * (2 if bidir else 1)
    x = randn((B, T, 3), seed=6)
    xt, xv = x.clone().requires_grad_(), to_vt(x, device, requires_grad=True)
    enforce = list(lengths) == sorted(lengths, reverse=True)
    pt = trnn.pack_padded_sequence(xt, list(lengths), batch_first=True, enforce_sorted=enforce)
    pv = vrnn.pack_padded_sequence(xv, list(lengths), batch_first=True, enforce_sorted=enforce)
    states_t = states_v = None
    leaves_t, leaves_v = [xt], [xv]
    if with_state:
        h, c = randn((D, B, 4), seed=7), randn((D, B, 4), seed=8)
        ht, ct = h.clone().requires_grad_(), c.clone().requires_grad_()
        hv, cv = to_vt(h, device, requires_grad=True), to_vt(c, device, requires_grad=True)
        states_t, states_v = ((ht, ct), (hv, cv)) if kind == "LSTM" else (ht, hv)
        leaves_t += [ht, ct] if kind == "LSTM" else [ht]
        leaves_v += [hv, cv] if kind == "LSTM" else [hv]
    out_t, hid_t = tm(pt, states_t)
    out_v, hid_v = vm(pv, states_v)
    assert isinstance(out_v, vrnn.PackedSequence)
    assert out_v.batch_sizes.tolist() == out_t.batch_sizes.tolist()
    padded_t, _ = trnn.pad_packed_sequence(out_t, batch_first=True)
    padded_v, _ = vrnn.pad_packed_sequence(out_v, batch_first=True)
    assert_close(padded_v, padded_t.detach(), **TOL)
    finals_t = list(hid_t) if kind == "LSTM" else [hid_t]
    finals_v = list(hid_v) if kind == "LSTM" else [hid_v]
    for fv, ft in zip(finals_v, finals_t):
        assert_close(fv, ft.detach(), **TOL)  # in the caller's batch order, each sequence's last step
    ws = [randn(tuple(t.shape), seed=20 + i) for i, t in enumerate([padded_t] + finals_t)]
    sum((t * w).sum() for t, w in zip([padded_t] + finals_t, ws)).backward()
    loss = None
    for t, w in zip([padded_v] + finals_v, ws):
        term = (t * to_vt(w, device)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    for lv, lt in zip(leaves_v, leaves_t):
        assert_close(lv.grad, lt.grad, **TOL)
    for (name, p_t), p_v in zip(tm.named_parameters(), vm.parameters()):
        assert_close(p_v.grad, p_t.grad, **TOL)


def test_packed_input_checks():
    m = vt.nn.LSTM(3, 4)
    packed = vrnn.pack_sequence([vt.zeros(3, 5), vt.zeros(2, 5)])
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(packed)
    packed = vrnn.pack_sequence([vt.zeros(3, 3), vt.zeros(2, 3)])
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \(1, 3, 4\)"):
        m(packed, (vt.zeros(1, 3, 4), vt.zeros(1, 3, 4)))


def test_torch_alias_finds_the_modules():
    from vibetensor.compat.alias_map import alias_map

    names = alias_map()
    assert names["torch.nn.utils.rnn"] == "vibetensor.nn.utils.rnn"
    assert names["torch.nn.utils.convert_parameters"] == "vibetensor.nn.utils.convert_parameters"
    assert to_torch(parameters_to_vector([vt.ones(2)])).tolist() == [1.0, 1.0]
