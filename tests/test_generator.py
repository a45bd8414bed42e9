"""vibetensor.Generator (torch.Generator's contract: a seed fixes the draws, each draw advances it, the global
generator is untouched) in the factories, the in-place initializers, multinomial and the data utilities."""
import numpy as np
import pytest

import vibetensor as vt


def test_same_seed_same_draws_and_advances(device):
    g = vt.Generator().manual_seed(7)
    a = vt.randn(4, 3, generator=g, device=device)
    b = vt.randn(4, 3, generator=g, device=device)
    assert not vt.equal(a, b)  # it advanced
    g.manual_seed(7)
    assert vt.equal(vt.randn(4, 3, generator=g, device=device), a)
    assert a.dtype is vt.float32 and str(a.device) == str(vt.device(device))
    r = vt.rand(1000, generator=g, dtype=vt.float64, device=device)
    assert r.dtype is vt.float64 and 0 <= float(r.min()) and float(r.max()) < 1 and abs(float(r.mean()) - 0.5) < 0.05
    i = vt.randint(3, 9, (500,), generator=g, device=device)
    assert i.dtype is vt.int64 and int(i.min()) == 3 and int(i.max()) == 8
    w = vt.empty(200, device=device)
    w.normal_(2.0, 0.5, generator=g)
    assert abs(float(w.mean()) - 2.0) < 0.15
    w.uniform_(-1, 1, generator=vt.Generator().manual_seed(1))
    assert float(w.abs().max()) <= 1


def test_global_generator_is_untouched():
    vt.manual_seed(3)
    expected = vt.rand(5)
    vt.manual_seed(3)
    vt.rand(5, generator=vt.Generator().manual_seed(9))
    assert vt.equal(vt.rand(5), expected)


def test_seed_state_and_data_utilities():
    g = vt.Generator()
    assert g.initial_seed() == 67280421310721  # torch's default
    s = g.seed()
    assert g.initial_seed() == s
    state = g.get_state()
    a = vt.rand(3, generator=g)
    g.set_state(state)
    assert vt.equal(vt.rand(3, generator=g), a)
    data = list(range(10))
    splits = [[list(s) for s in vt.utils.data.random_split(data, [7, 3], generator=vt.Generator().manual_seed(42))]
              for _ in range(2)]
    assert splits[0] == splits[1] and sorted(splits[0][0] + splits[0][1]) == data
    order = list(vt.utils.data.RandomSampler(data, generator=vt.Generator().manual_seed(1)))
    assert order == list(vt.utils.data.RandomSampler(data, generator=vt.Generator().manual_seed(1)))
    with pytest.raises(TypeError, match="randn\\(\\): generator must be a vibetensor.Generator, got int"):
        vt.randn(2, generator=5)
    assert isinstance(np.asarray(vt.randn(2, generator=g)), np.ndarray)


def test_get_and_set_rng_state_replay_the_global_generators_draws(device):
    """torch.get_rng_state / set_rng_state, as checkpointing scripts use them: the draws after a saved state come
    again after it is restored, on every device (one Philox generator, Note [Philox streams])."""
    vt.manual_seed(11)
    vt.rand(3, device=device)
    state = vt.get_rng_state()
    assert state.dtype is vt.int64 and tuple(state.shape) == (2,) and str(state.device) == "cpu"
    first = [vt.randn(4, 5, device=device), vt.nn.functional.dropout(vt.ones(64, device=device), 0.5)]
    vt.rand(7, device=device)
    vt.set_rng_state(state)
    again = [vt.randn(4, 5, device=device), vt.nn.functional.dropout(vt.ones(64, device=device), 0.5)]
    assert all(vt.equal(a, b) for a, b in zip(first, again))
    assert vt.initial_seed() == 11
    assert vt.equal(vt.cuda.get_rng_state(), vt.get_rng_state())  # one generator for every device
    vt.cuda.set_rng_state(state)
    assert vt.equal(vt.randn(4, 5, device=device), first[0])


def test_a_negative_seed_and_a_far_offset_round_trip_through_the_state():
    vt.manual_seed(-5)  # stored as its 64-bit two's complement, as torch does
    vt.rand(1000)
    state = vt.get_rng_state()
    x = vt.rand(5)
    vt.set_rng_state(vt.tensor(state.tolist(), dtype=vt.int64))  # a copy, as from a checkpoint's JSON
    assert vt.equal(vt.rand(5), x)


def test_fork_rng_restores_the_generator_and_seed_returns_the_seed_it_set():
    vt.manual_seed(2)
    with vt.random.fork_rng():
        vt.randn(100)
    a = vt.randn(3)
    vt.manual_seed(2)
    assert vt.equal(vt.randn(3), a)
    with vt.random.fork_rng(enabled=False):
        vt.randn(3)
    assert not vt.equal(vt.randn(3), a)
    s = vt.seed()
    assert vt.initial_seed() == s
    assert vt.random.initial_seed() == s


@pytest.mark.parametrize("bad, error, message", [
    ("list", TypeError, "expected the tensor get_rng_state returned, got list"),
    ("float", ValueError, r"int64 tensor of 2 elements .* got a vibetensor.float32 tensor of shape \(2,\)"),
    ("torch_size", ValueError, r"got a vibetensor.int32 tensor of shape \(5056,\) \(a state saved by torch itself"),
])
def test_set_rng_state_refuses_what_get_rng_state_did_not_return(bad, error, message):
    bad = {"list": [1, 2], "float": vt.zeros(2), "torch_size": vt.zeros(5056, dtype=vt.int32)}[bad]
    before = vt.get_rng_state()
    with pytest.raises(error, match=message):
        vt.set_rng_state(bad)
    assert vt.equal(vt.get_rng_state(), before)
