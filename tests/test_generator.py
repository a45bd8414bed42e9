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
