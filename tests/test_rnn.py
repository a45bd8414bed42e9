"""RNN, LSTM and GRU against torch.nn's on every device, from the same weights (state dicts load both
ways): layers, bidirectional, batch_first, with and without biases, unbatched input, initial states, the
outputs and final states, and the gradients of the input, the initial states and every weight; an LSTM
language model trained a few steps as torch trains it; bad input."""
import pytest
import torch

import vibetensor as vt

from harness import assert_close, randn, to_vt

TOL = dict(rtol=1e-4, atol=2e-5)


def _twin(tm, vm, device):
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    return vm.to(device)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidir,batch_first", [(1, False, False), (2, True, False), (2, False, True),
                                                      (1, True, True)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_matches_torch(device, kind, layers, bidir, batch_first, with_state, bias):
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
    tm = getattr(torch.nn, kind)(5, 6, **kw)
    vm = _twin(tm, getattr(vt.nn, kind)(5, 6, **kw), device)
    assert set(dict(vm.state_dict())) == set(tm.state_dict())
    T, N, D = 7, 3, layers * (2 if bidir else 1)
    x = randn((N, T, 5) if batch_first else (T, N, 5), seed=1)
    xt, xv = x.clone().requires_grad_(), to_vt(x, device, requires_grad=True)
    states_t = states_v = None
    if with_state:
        h = randn((D, N, 6), seed=2).requires_grad_()
        c = randn((D, N, 6), seed=3).requires_grad_()
        hv, cv = to_vt(h.detach(), device, requires_grad=True), to_vt(c.detach(), device, requires_grad=True)
        states_t = (h, c) if kind == "LSTM" else h
        states_v = (hv, cv) if kind == "LSTM" else hv
    out_t, hn_t = tm(xt, states_t)
    out_v, hn_v = vm(xv, states_v)
    assert_close(out_v, out_t.detach(), **TOL)
    finals_t = hn_t if kind == "LSTM" else (hn_t,)
    finals_v = hn_v if kind == "LSTM" else (hn_v,)
    for a, b in zip(finals_v, finals_t):
        assert_close(a, b.detach(), **TOL)
    (out_t.square().sum() + sum(f.sum() for f in finals_t)).backward()
    loss_v = out_v.square().sum()
    for f in finals_v:
        loss_v = loss_v + f.sum()
    loss_v.backward()
    assert_close(xv.grad, xt.grad, **TOL)
    if with_state:  # the initial states' gradients, through the first step's cell
        for sv, st in zip(states_v if kind == "LSTM" else (states_v,), states_t if kind == "LSTM" else (states_t,)):
            assert_close(sv.grad, st.grad, **TOL)
    grads = {k: p.grad for k, p in tm.named_parameters()}
    for k, p in vm.named_parameters():
        assert_close(p.grad, grads[k], **TOL)


def test_unbatched(device):
    torch.manual_seed(1)
    tm = torch.nn.LSTM(4, 3)
    vm = _twin(tm, vt.nn.LSTM(4, 3), device)
    x = randn((6, 4), seed=1)
    out_t, (h_t, c_t) = tm(x)
    out_v, (h_v, c_v) = vm(to_vt(x, device))
    assert_close(out_v, out_t.detach(), **TOL)
    assert_close(h_v, h_t.detach(), **TOL)
    assert_close(c_v, c_t.detach(), **TOL)


def test_lstm_language_model_trains_as_torch(device):
    def build(nn):
        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed, self.rnn, self.head = nn.Embedding(20, 8), nn.LSTM(8, 16, 2, batch_first=True), nn.Linear(16, 20)

            def forward(self, idx):
                return self.head(self.rnn(self.embed(idx))[0])
        return LM()

    torch.manual_seed(2)
    tm = build(torch.nn)
    vm = _twin(tm, build(vt.nn), device)
    topt, vopt = torch.optim.Adam(tm.parameters(), 1e-2), vt.optim.Adam(vm.parameters(), 1e-2)
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        idx = torch.randint(0, 20, (4, 9), generator=g)
        lt = torch.nn.functional.cross_entropy(tm(idx[:, :-1]).reshape(-1, 20), idx[:, 1:].reshape(-1))
        topt.zero_grad(), lt.backward(), topt.step()
        vi = to_vt(idx, device)
        lv = vt.nn.functional.cross_entropy(vm(vi[:, :-1]).reshape(-1, 20), vi[:, 1:].reshape(-1))
        vopt.zero_grad(), lv.backward(), vopt.step()
        assert abs(lv.item() - lt.item()) < 1e-4


def test_bad_input(device):
    m = vt.nn.GRU(4, 3).to(device)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 4, got 5"):
        m(to_vt(randn((2, 3, 5)), device))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 3\), got \(2, 3, 3\)"):
        m(to_vt(randn((2, 3, 4)), device), to_vt(randn((2, 3, 3)), device))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        vt.nn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(NotImplementedError, match="proj_size"):
        vt.nn.LSTM(4, 3, proj_size=2)
