"""DistributedSampler (Note [Distributed sampler]) and WeightedRandomSampler (Note [Weighted sampling]).
Their permutations and draws are not torch's (other generators), so the tests check the invariants: without
shuffling the ranks' indices equal torch's exactly; with it the ranks' shares are disjoint and cover the
dataset, the padding repeats the permutation's head, the permutation depends on seed + epoch only; weighted
draws follow the weights; the errors are torch's."""
import collections
import math

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import vibetensor as vt
from vibetensor.utils.data import DataLoader, DistributedSampler, TensorDataset, WeightedRandomSampler

CASES = [(10, 3), (12, 4), (7, 8), (5, 1), (1, 2), (16, 5)]


def _shares(n, replicas, **kw):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kw)) for r in range(replicas)]


def _interleaved(shares):
    """The padded (or cut) index list the ranks took every num_replicas-th element of."""
    return [shares[r][i] for i in range(len(shares[0])) for r in range(len(shares))]


@pytest.mark.parametrize("n,replicas", CASES)
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_equals_torch(n, replicas, drop_last):
    for r in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        ref = tdata.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(ref)
        assert len(ours) == len(ref) and ours.total_size == ref.total_size


@pytest.mark.parametrize("n,replicas", CASES)
def test_shuffled_shares_are_disjoint_cover_and_pad_with_the_head(n, replicas):
    shares = _shares(n, replicas, seed=3)
    num_samples = math.ceil(n / replicas)
    assert all(len(s) == num_samples for s in shares)
    full = _interleaved(shares)
    assert sorted(full[:n]) == list(range(n))  # a permutation of the dataset ...
    pad = len(full) - n
    assert full[n:] == (full[:n] * math.ceil(pad / n))[:pad] if pad else True  # ... padded with its own head
    assert set().union(*map(set, shares)) == set(range(n))
    if n % replicas == 0:
        assert all(not (set(a) & set(b)) for i, a in enumerate(shares) for b in shares[i + 1:])


@pytest.mark.parametrize("n,replicas", [(10, 3), (16, 5), (7, 3)])
def test_drop_last_cuts_the_tail_instead(n, replicas):
    shares = _shares(n, replicas, seed=1, drop_last=True)
    assert all(len(s) == n // replicas for s in shares)
    full = _interleaved(shares)
    assert len(set(full)) == len(full) == (n // replicas) * replicas  # distinct: nothing repeated
    assert set(full) <= set(range(n))


def test_permutation_depends_on_seed_and_epoch_only():
    def order(seed=0, epoch=None, rank=0):
        s = DistributedSampler(range(50), num_replicas=2, rank=rank, seed=seed)
        if epoch is not None:
            s.set_epoch(epoch)
        return list(s)

    assert order() == order() == order(epoch=0)  # deterministic: a new sampler, the same epoch
    assert order(epoch=1) != order(epoch=0)
    assert order(epoch=1) == order(epoch=1)
    assert order(seed=1) != order(seed=0)
    assert order(seed=1, epoch=0) == order(seed=0, epoch=1)  # only the sum counts, as torch's seed + epoch
    assert order(epoch=2) != list(range(0, 50, 2))  # it does shuffle
    vt.manual_seed(1)
    a = order(epoch=4)
    vt.manual_seed(2)
    assert order(epoch=4) == a  # not the global generator's
    sampler = DistributedSampler(range(50), num_replicas=2, rank=1)
    epochs = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        epochs.append(list(sampler))
        assert not set(epochs[-1]) & set(order(epoch=epoch, rank=0))  # each epoch: disjoint from rank 0's
    assert epochs[0] != epochs[1] != epochs[2]


def test_rank_and_world_from_the_process_group():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4), num_replicas=2)
    vt.distributed.init_process_group("gloo", world_size=1, rank=0)
    try:
        sampler = DistributedSampler(range(6), shuffle=False)
        assert (sampler.num_replicas, sampler.rank) == (1, 0)
        assert list(sampler) == list(range(6))
    finally:
        vt.distributed.destroy_process_group()


def test_with_a_dataloader():
    ds = TensorDataset(vt.arange(20))
    sampler = DistributedSampler(ds, num_replicas=3, rank=2, seed=7)
    got = [int(v) for (batch,) in DataLoader(ds, batch_size=4, sampler=sampler) for v in batch.tolist()]
    assert got == list(sampler) and len(got) == 7


@pytest.mark.parametrize("kwargs", [dict(num_replicas=3, rank=3), dict(num_replicas=3, rank=-1),
                                    dict(num_replicas=2, rank=5)])
def test_rank_out_of_range_is_torch_error(kwargs):
    with pytest.raises(ValueError) as ref:
        tdata.DistributedSampler(range(4), **kwargs)
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(4), **kwargs)
    assert str(ours.value) == str(ref.value)


def test_bad_num_replicas():
    with pytest.raises(ValueError, match="num_replicas should be a positive integer value, but got num_replicas=0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


# ---- WeightedRandomSampler ------------------------------------------------------------------------------------

def _frequencies(indices, n):
    counts = np.bincount(np.asarray(list(indices)), minlength=n)
    return counts / counts.sum()


@pytest.mark.parametrize("weights", [[1.0, 2.0, 0.0, 5.0, 0.5], "tensor", np.array([1, 0, 3, 4]),
                                     [1e308, 1e308, 2e307]])
def test_with_replacement_follows_the_weights(weights):
    weights = vt.tensor([3.0, 1.0, 1.0]) if isinstance(weights, str) else weights  # (made here: no tensor at exit)
    w = np.asarray(weights.tolist() if isinstance(weights, vt.Tensor) else weights, dtype=np.float64)
    p = w / w.max()
    p = p / p.sum()
    draws = 40000
    freq = _frequencies(WeightedRandomSampler(weights, draws, generator=vt.Generator().manual_seed(0)), len(w))
    sigma = np.sqrt(p * (1 - p) / draws)
    assert np.all(np.abs(freq - p) <= 5 * sigma + 1e-12), (freq, p)
    assert np.all(freq[p == 0] == 0)


def test_without_replacement():
    w = [1.0, 2.0, 0.0, 5.0, 0.5]
    for seed in range(20):
        got = list(WeightedRandomSampler(w, 4, replacement=False, generator=vt.Generator().manual_seed(seed)))
        assert sorted(got) == [0, 1, 3, 4]  # distinct; the weight-0 index only when nothing else is left
    full = list(WeightedRandomSampler(w, 5, replacement=False))
    assert sorted(full) == list(range(5)) and full[-1] == 2
    # the first draw without replacement follows the weights
    rng = vt.Generator().manual_seed(1)
    sampler = WeightedRandomSampler(w, 1, replacement=False, generator=rng)
    firsts = [next(iter(sampler)) for _ in range(8000)]
    p = np.asarray(w) / sum(w)
    freq = _frequencies(firsts, 5)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / 8000) + 1e-12), (freq, p)


def test_reproducible_and_lazy():
    w = [0.2, 0.3, 0.5]
    a = list(WeightedRandomSampler(w, 50, generator=vt.Generator().manual_seed(3)))
    assert a == list(WeightedRandomSampler(w, 50, generator=vt.Generator().manual_seed(3)))
    assert a != list(WeightedRandomSampler(w, 50, generator=vt.Generator().manual_seed(4)))
    vt.manual_seed(9)
    b = list(WeightedRandomSampler(w, 50))
    vt.manual_seed(9)
    assert list(WeightedRandomSampler(w, 50)) == b  # no generator: seeded from vibetensor's global one
    gen = vt.Generator().manual_seed(5)
    sampler = WeightedRandomSampler(w, 30, generator=gen)
    assert list(sampler) != list(sampler)  # a generator advances across epochs, as torch's
    huge = WeightedRandomSampler(w, 10 ** 10)
    assert len(huge) == 10 ** 10
    first = [v for _, v in zip(range(5), huge)]  # drawn in chunks, not all at once
    assert len(first) == 5 and set(first) <= {0, 1, 2}
    assert len(WeightedRandomSampler(w, 7)) == 7


@pytest.mark.parametrize("args", [dict(weights=[1.0, 1.0], num_samples=0), dict(weights=[1.0, 1.0], num_samples=-2),
                                  dict(weights=[1.0, 1.0], num_samples=1.5), dict(weights=[1.0, 1.0], num_samples=True),
                                  dict(weights=[1.0, 1.0], num_samples=2, replacement="yes"),
                                  dict(weights=[[1.0, 1.0]], num_samples=2)])
def test_construction_errors_are_torch(args):
    with pytest.raises(ValueError) as ref:
        tdata.WeightedRandomSampler(**args)
    with pytest.raises(ValueError) as ours:
        WeightedRandomSampler(**args)
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("weights,num_samples,replacement", [
    ([1.0, -1.0], 2, True), ([1.0, float("nan")], 2, True), ([1.0, float("inf")], 2, True), ([0.0, 0.0], 2, True),
    ([], 2, True), ([1.0, 1.0], 3, False)])
def test_weight_errors_come_when_iterated_as_torch(weights, num_samples, replacement):
    with pytest.raises(RuntimeError) as ref:
        list(tdata.WeightedRandomSampler(torch.tensor(weights), num_samples, replacement))
    sampler = WeightedRandomSampler(weights, num_samples, replacement)
    with pytest.raises(RuntimeError) as ours:
        list(sampler)
    assert str(ours.value) == str(ref.value)


def test_generator_type_is_checked():
    with pytest.raises(TypeError, match="generator must be None, a vibetensor.Generator"):
        WeightedRandomSampler([1.0], 1, generator="seed")


def test_torch_alias_finds_the_modules():
    from vibetensor.compat.alias_map import alias_map

    assert alias_map()["torch.utils.data.distributed"] == "vibetensor.utils.data.distributed"
    assert collections.Counter(tdata.__all__)["WeightedRandomSampler"] == 1
    assert "WeightedRandomSampler" in vt.utils.data.__all__ and "DistributedSampler" in vt.utils.data.__all__
