"""torch.nn.utils.rnn: batches of sequences of different lengths, padded (pad_sequence, unpad_sequence) or packed
(PackedSequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence), which nn.RNN, LSTM
and GRU take and return (Note [Packed sequences]). Everything is composed of differentiable ops."""
import numbers
from collections.abc import Iterable
from typing import NamedTuple, Optional

from vibetensor import _C, _dtype, _factories
from vibetensor import _functional as F
from vibetensor._sorting import argsort, sort

Tensor = _C.Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

# Note [Packed sequences]
# A PackedSequence holds B sequences sorted by decreasing length, time step after time step: `data` has the
# first step of every sequence, then the second step of those at least two long, and so on; batch_sizes[t] (an
# int64 CPU tensor) is how many sequences have a step t. Because the sequences are sorted, those are always the
# first batch_sizes[t] of them, so a recurrent layer runs step t on the first batch_sizes[t] rows of its state
# and leaves the other rows as they are: a finished sequence keeps its last state (the h_n it returns), and in
# the reverse direction a sequence that has not started yet keeps its initial state until its last step comes
# (nn/modules/rnn.py). sorted_indices (None when the input came sorted, enforce_sorted=True) is the order that
# sorted the batch, unsorted_indices its inverse: initial states are taken into the sorted order and final
# states and padded outputs given back in the caller's.


class PackedSequence(NamedTuple):
    """The output of pack_padded_sequence / pack_sequence (Note [Packed sequences]); not to be made by hand."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor] = None
    unsorted_indices: Optional[Tensor] = None

    def to(self, *args, **kwargs):
        """data converted by Tensor.to; the indices follow it to its device. self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def follow(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, follow(self.sorted_indices), follow(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to(*args, device="cuda", **kwargs) if not args else self.to(*args, **kwargs)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()

    def pin_memory(self):
        pin = lambda t: None if t is None else t.pin_memory()  # noqa: E731
        return type(self)(self.data.pin_memory(), self.batch_sizes, pin(self.sorted_indices), pin(self.unsorted_indices))


def invert_permutation(permutation):
    """The inverse of a 1-D permutation tensor (None for None)."""
    if permutation is None:
        return None
    return argsort(permutation)


def _padding(shape, like, value):
    return _factories.full(tuple(shape), value, dtype=like.dtype, device=like.device)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences of shapes [L_i, *] into [T, B, *] (batch_first: [B, T, *]), T the longest L_i, each padded
    with padding_value after its steps (padding_side="left": before them)."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected a sequence of Tensors, but item {i} is {type(s).__name__}")
        if s.dim() == 0:
            raise RuntimeError(f"pad_sequence: sequence {i} is a 0-d tensor; expected tensors of shape [length, *]")
    trailing = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: sequence {i} has trailing dimensions {tuple(s.shape[1:])}, sequence 0 "
                               f"{trailing}; expected every sequence of shape [length, *{list(trailing)}]")
    first = sequences[0]
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        s = s if s.dtype == first.dtype else s.to(first.dtype)  # the first sequence's dtype, as torch's
        if s.shape[0] < longest:
            pad = _padding((longest - s.shape[0],) + trailing, s, padding_value)
            s = F.cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return F.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence (right padding): the list of the first lengths[i] steps of each sequence."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    if len(lengths) != padded_sequences.shape[0]:
        raise ValueError(f"unpad_sequence: {len(lengths)} lengths for a batch of {padded_sequences.shape[0]}")
    return [seq.narrow(0, 0, int(n)) for seq, n in zip(padded_sequences, lengths)]


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                               f"{lengths.device.type} {lengths.dtype} tensor")
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch [T, B, *] (batch_first: [B, T, *]) of sequences of the given lengths (Note [Packed
    sequences]). enforce_sorted=False sorts the batch by decreasing length first."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: expected an input of at least 2 dimensions (time and batch), got "
                           f"shape {tuple(input.shape)}")
    lengths = _lengths_list(lengths)
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                               "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
    else:
        values, sorted_indices = sort(_factories.tensor(lengths, dtype=_dtype.int64), descending=True, stable=True)
        lengths = values.tolist()
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    steps = input.transpose(0, 1) if batch_first else input  # [T, B, *]
    batch = steps.shape[1]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if lengths and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is "
                           "<= 0")
    if lengths and lengths[0] > steps.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: the longest length is {lengths[0]}, but the input has "
                           f"{steps.shape[0]} time steps; expected lengths of at most the padded length")
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0] if lengths else 0)]
    data = F.cat([steps[t].narrow(0, 0, bs) for t, bs in enumerate(batch_sizes)])
    return PackedSequence(data, _factories.tensor(batch_sizes, dtype=_dtype.int64), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: the padded batch [T, B, *] (batch_first: [B, T, *]), T the longest
    length or total_length, in the caller's batch order, and the lengths (an int64 CPU tensor)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = sequence.batch_sizes.tolist()
    longest = len(batch_sizes)
    if total_length is not None:
        if not isinstance(total_length, numbers.Integral) or total_length < longest:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but got "
                             f"total_length={total_length} and max sequence length being {longest}")
        longest = int(total_length)
    data = sequence.data
    batch = batch_sizes[0]
    trailing = tuple(data.shape[1:])
    rows, offset = [], 0
    for bs in batch_sizes:
        step = data.narrow(0, offset, bs)
        offset += bs
        rows.append(step if bs == batch else F.cat([step, _padding((batch - bs,) + trailing, data, padding_value)]))
    rows += [_padding((batch,) + trailing, data, padding_value)] * (longest - len(batch_sizes))
    padded = F.stack(rows, 1 if batch_first else 0)
    lengths = _factories.tensor([sum(1 for bs in batch_sizes if bs > b) for b in range(batch)], dtype=_dtype.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices.cpu())
    return padded, lengths


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence of pad_sequence(sequences) with their lengths."""
    sequences = list(sequences)
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.dim() else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
