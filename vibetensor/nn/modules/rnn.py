"""RNN, LSTM and GRU (torch.nn's: several layers, batch_first, bidirectional, dropout between layers,
initial states) and their single steps RNNCell, LSTMCell and GRUCell, with torch's parameter names, layouts
and gate orders (LSTM i, f, g, o; GRU r, z, n), so state dicts load both ways; a PackedSequence in gives a
PackedSequence out (Note [Packed sequences] in nn/utils/rnn.py). The input projection of a whole sequence is
one matmul per layer and direction; a time step is the hidden projection and, for LSTM and GRU, one fused cell
op (torch's _thnn_fused_*_cell; Note [Fused RNN cells] in csrc/ops/rnn_cell_args.h)."""
import math

from vibetensor import _C, _factories
from vibetensor import _functional as _F
from vibetensor.nn import functional as F
from vibetensor.nn import init
from vibetensor.nn.modules.module import Module
from vibetensor.nn.parameter import Parameter
from vibetensor.nn.utils.rnn import PackedSequence

_ops = _C._ops
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if proj_size:
            raise NotImplementedError("proj_size is not supported by vibetensor")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"hidden_size and num_layers must be positive, got {hidden_size} and {num_layers}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size = 0
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        kw = dict(device=device, dtype=dtype)
        for layer in range(num_layers):
            for d in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else hidden_size * dirs
                setattr(self, "weight_ih" + suffix, Parameter(_factories.empty((gates, in_size), **kw)))
                setattr(self, "weight_hh" + suffix, Parameter(_factories.empty((gates, hidden_size), **kw)))
                if bias:
                    setattr(self, "bias_ih" + suffix, Parameter(_factories.empty((gates,), **kw)))
                    setattr(self, "bias_hh" + suffix, Parameter(_factories.empty((gates,), **kw)))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _weights(self, layer, d):
        suffix = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda name: getattr(self, name + suffix, None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _input_bias(self, b_ih, b_hh):
        """The bias of the whole sequence's input projection: an RNN's or LSTM's two biases enter its
        pre-activations only as their sum, so both go there once (no per-step bias, nor its per-step
        gradient reduction). A GRU's b_hn sits inside r * (W_hn h + b_hn) and stays in the cell."""
        return b_ih + b_hh if self.mode != "GRU" and b_ih is not None else b_ih

    def _cell(self, xw, h, c, w_hh_t, b_hh):
        """One time step from the input's projection xw (its biases from _input_bias included) and the
        transposed hidden weight (transposed once per sequence, not per step): (h, c)."""
        hw = _ops.matmul(h, w_hh_t)
        if self.mode == "LSTM":
            h, c, _ = _ops._fused_lstm_cell(xw, hw, c)
            return h, c
        if self.mode == "GRU":  # b_hh inside the cell: the n gate's r * (W_hn h + b_hn) needs b_hn there
            return _ops._fused_gru_cell(xw, hw, h, None, b_hh)[0], None
        pre = xw + hw
        return (_F.tanh(pre) if self.mode == "RNN_TANH" else F.relu(pre)), None

    def _initial_states(self, hx, batch, like, unbatched=False):
        """(h0, c0) of shape [layers * directions, batch, hidden] (c0 None but for LSTM), zeros when hx is None."""
        lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        if hx is None:
            h0 = _factories.zeros((self.num_layers * dirs, batch, self.hidden_size), device=like.device, dtype=like.dtype)
            return h0, (h0 if lstm else None)
        h0, c0 = hx if lstm else (hx, None)
        if unbatched:
            h0, c0 = h0.unsqueeze(1), (c0.unsqueeze(1) if lstm else None)
        want = (self.num_layers * dirs, batch, self.hidden_size)
        if tuple(h0.shape) != want:
            raise RuntimeError(f"Expected hidden size {want}, got {tuple(h0.shape)}")
        return h0, c0

    def _direction(self, xw, steps, h, c, w_hh_t, b_hh, reverse):
        """One layer's one direction over the time-major rows xw (the input projections of every step, step t's
        the next steps[t] rows, steps not increasing): its outputs, in xw's row order, and its final (h, c).
        Step t updates the first steps[t] rows of the state and leaves the rest (Note [Packed sequences])."""
        batch = steps[0]
        starts = [0]
        for n in steps[:-1]:
            starts.append(starts[-1] + n)
        outs = [None] * len(steps)
        for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
            n = steps[t]
            if n == batch:
                h, c = self._cell(xw.narrow(0, starts[t], n), h, c, w_hh_t, b_hh)
                outs[t] = h
                continue
            h_t, c_t = self._cell(xw.narrow(0, starts[t], n), h.narrow(0, 0, n),
                                  None if c is None else c.narrow(0, 0, n), w_hh_t, b_hh)
            outs[t] = h_t
            h = _F.cat([h_t, h.narrow(0, n, batch - n)])
            c = None if c is None else _F.cat([c_t, c.narrow(0, n, batch - n)])
        return _F.cat(outs), h, c

    def _layers(self, x, steps, h0, c0):
        """Every layer and direction over the time-major rows x ([sum(steps), input]): the last layer's outputs
        (same rows) and the stacked final states h_n, c_n."""
        lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                xw = F.linear(x, w_ih, self._input_bias(b_ih, b_hh))  # every step's projection at once
                i = layer * dirs + d
                out, h, c = self._direction(xw, steps, h0[i], c0[i] if lstm else None, w_hh.t(), b_hh, bool(d))
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else _F.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, _F.stack(h_n, 0), (_F.stack(c_n, 0) if lstm else None)

    def _check_input_size(self, size):
        if size != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {size}")

    def _forward_packed(self, input, hx):
        """A PackedSequence in, a PackedSequence out (Note [Packed sequences] in nn/utils/rnn.py); initial states
        in the caller's batch order, taken into the sorted one, and the final states given back in the caller's."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        if data.dim() != 2:
            raise ValueError(f"{type(self).__name__}: expected packed data of 2 dimensions, got {data.dim()}")
        self._check_input_size(data.shape[-1])
        steps = batch_sizes.tolist()
        h0, c0 = self._initial_states(hx, steps[0], data)
        if hx is not None and sorted_indices is not None:
            h0 = h0.index_select(1, sorted_indices)
            c0 = None if c0 is None else c0.index_select(1, sorted_indices)
        out, h_n, c_n = self._layers(data, steps, h0, c0)
        if unsorted_indices is not None:
            h_n = h_n.index_select(1, unsorted_indices)
            c_n = None if c_n is None else c_n.index_select(1, unsorted_indices)
        return type(input)(out, batch_sizes, sorted_indices, unsorted_indices), ((h_n, c_n) if c_n is not None else h_n)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        lstm = self.mode == "LSTM"
        unbatched = input.dim() == 2
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)  # [T, N, I]
        self._check_input_size(x.shape[-1])
        T, N = x.shape[0], x.shape[1]
        h0, c0 = self._initial_states(hx, N, x, unbatched)
        out, h_n, c_n = self._layers(x.reshape(T * N, x.shape[-1]), [N] * T, h0, c0)
        x = out.reshape(T, N, out.shape[-1])
        out = x.squeeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        if unbatched:
            h_n, c_n = h_n.squeeze(1), (c_n.squeeze(1) if lstm else None)
        return out, ((h_n, c_n) if lstm else h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step: weight_ih [G*H, I], weight_hh [G*H, H] and the biases [G*H] (G gates), initialised
    U(-1/sqrt(H), 1/sqrt(H)) as torch's. The LSTM and GRU steps are the fused cell ops over the two
    projections (Note [Fused RNN cells])."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(_factories.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(_factories.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(_factories.empty((num_chunks * hidden_size,), **kw))
            self.bias_hh = Parameter(_factories.empty((num_chunks * hidden_size,), **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _batched(self, input, states, names):
        """input [N, I] and states [N, H] (an unbatched [I] and [H] given a batch of one; missing states
        zeros), checked as torch's cells check them; and whether the input was batched."""
        cell = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for name, state in zip(names, states):
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{cell}: Expected {name} to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}")
        out = []
        for name, state in zip(names, states):
            if state is None:
                state = _factories.zeros((x.shape[0], self.hidden_size), device=x.device, dtype=x.dtype)
            elif not batched:
                state = state.unsqueeze(0)
            if state.dim() != 2 or state.shape[0] != x.shape[0]:
                raise RuntimeError(f"{cell}: {name} of shape {list(state.shape)} does not match the input's batch: "
                                   f"expected [{x.shape[0]}, {self.hidden_size}]")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"{name} has inconsistent hidden_size: got {state.shape[1]}, expected "
                                   f"{self.hidden_size}")
            out.append(state)
        return x, out, batched

    def _projections(self, x, h):
        return F.linear(x, self.weight_ih), F.linear(h, self.weight_hh)


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._batched(input, [hx], ["hidden"])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h = _F.tanh(pre) if self.nonlinearity == "tanh" else F.relu(pre)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """(h, c) after one step from (h, c) = hx (zeros when None)."""
        if hx is not None and len(hx) != 2:
            raise ValueError(f"LSTMCell: Expected hx to be a pair (h, c), got {len(hx)} tensors")
        x, (h, c), batched = self._batched(input, [None, None] if hx is None else list(hx), ["hx[0]", "hx[1]"])
        h, c, _ = _ops._fused_lstm_cell(*self._projections(x, h), c, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._batched(input, [hx], ["hidden"])
        h = _ops._fused_gru_cell(*self._projections(x, h), h, self.bias_ih, self.bias_hh)[0]
        return h if batched else h.squeeze(0)
