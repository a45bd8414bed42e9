"""multinomial (composed of cumsum, sort and rand; Note [Multinomial sampling]): the distribution of the
draws (frequencies against the probabilities), with and without replacement, categories of weight 0,
reproducibility under vt.manual_seed, and torch's errors."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import to_numpy


def frequencies(samples, k):
    return np.bincount(to_numpy(samples).ravel(), minlength=k) / samples.numel()


def test_with_replacement_follows_the_probabilities():
    vt.manual_seed(0)
    w = vt.tensor([1.0, 0.0, 3.0, 6.0])  # unnormalized weights, one of 0
    s = vt.multinomial(w, 20000, replacement=True)
    assert s.shape == (20000,) and s.dtype is vt.int64
    f = frequencies(s, 4)
    assert f[1] == 0
    np.testing.assert_allclose(f, [0.1, 0.0, 0.3, 0.6], atol=0.015)


def test_without_replacement_draws_distinct_categories():
    vt.manual_seed(1)
    p = vt.tensor([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0]])
    firsts = []
    for _ in range(400):
        s = vt.multinomial(p, 3)
        rows = s.tolist()
        assert all(len(set(r)) == 3 for r in rows)
        assert rows[1][0] == 2  # the one positive category comes before those of weight 0, as in torch
        firsts.append(rows[0][0])
    assert abs(np.mean(np.array(firsts) == 0) - 0.7) < 0.08
    assert sorted(vt.multinomial(vt.tensor([0.0, 1.0]), 2).tolist()) == [0, 1]  # torch: [1, 0]


def test_language_model_sampling_and_seed():
    probs = vt.softmax(vt.randn(3, 50), -1)
    vt.manual_seed(7)
    a = vt.multinomial(probs, num_samples=1)
    vt.manual_seed(7)
    b = probs.multinomial(1)
    assert a.shape == (3, 1) and vt.equal(a, b)
    assert vt.multinomial(vt.tensor([0.2, 0.8], dtype=vt.float64), 1, True).shape == (1,)


@pytest.mark.parametrize("args", [
    ((torch.tensor([0.5, 0.5]), -1), {}),
    ((torch.tensor([0.5, 0.5]), 0), {}),
    ((torch.tensor([0.5, 0.5]), 3), {}),
    ((torch.tensor([0.5, -0.5]), 1), {}),
    ((torch.tensor([float("nan"), 1.0]), 1), {}),
    ((torch.tensor([float("inf"), 1.0]), 1), {}),
    ((torch.tensor([0.0, 0.0]), 1), {}),
    ((torch.tensor([0.0, 0.0]), 1), {"replacement": True}),
    ((torch.tensor([1, 1]), 1), {}),
    ((torch.ones(2, 2, 2), 1), {}),
    ((torch.tensor(1.0), 1), {}),
])
def test_errors_are_torchs(args):
    (p, n), kw = args
    with pytest.raises(RuntimeError) as expected:
        torch.multinomial(p, n, **kw)
    with pytest.raises(RuntimeError) as got:
        vt.multinomial(vt.from_dlpack(p.clone()), n, **kw)
    head = str(expected.value).split(", got")[0]
    assert str(got.value).startswith(head), (str(got.value), str(expected.value))


def test_generator():
    draws = [vt.multinomial(vt.tensor([0.2, 0.3, 0.5]), 50, True, generator=vt.Generator().manual_seed(4))
             for _ in range(2)]
    assert vt.equal(draws[0], draws[1])
    with pytest.raises(TypeError, match="rand\\(\\): generator must be a vibetensor.Generator, got object"):
        vt.multinomial(vt.tensor([1.0]), 1, generator=object())


def test_on_every_device(device):
    vt.manual_seed(2)
    p = vt.tensor([[0.0, 1.0, 3.0], [2.0, 2.0, 0.0]], device=device)
    with_replacement = vt.multinomial(p, 2000, True)
    f = [frequencies(row, 3) for row in with_replacement]
    np.testing.assert_allclose(f, [[0.0, 0.25, 0.75], [0.5, 0.5, 0.0]], atol=0.04)
    without = vt.multinomial(p, 2).tolist()
    assert all(sorted(r) != [] and len(set(r)) == 2 for r in without) and 0 not in without[0] and 2 not in without[1]
    assert str(with_replacement.device) == str(vt.device(device))
