"""vibetensor.utils.data against torch.utils.data: datasets, samplers, collation, the DataLoader's batches,
its worker processes (order, errors, timeout, shutdown) and its argument errors."""
import collections
import itertools
import multiprocessing
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import vibetensor as vt
from vibetensor.utils import data as vdata

torch = pytest.importorskip("torch")
tdata = torch.utils.data

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10, dtype=np.int64)


def _np(x):
    """Batches of either library as numpy (recursively through containers), for comparison."""
    if isinstance(x, (vt.Tensor, torch.Tensor)):
        return x.numpy()
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_np(v) for v in x]
    return x


def _assert_same(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


class NumpySamples:
    """A map-style dataset whose samples mix numpy arrays, Python numbers and strings (no tensors)."""

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], int(Y[i]), float(Y[i]) / 2, f"s{i}"


class DictSamples(NumpySamples):
    def __getitem__(self, i):
        return {"x": X[i], "y": int(Y[i]), "nested": {"z": [X[i][0], np.float64(i)]}}


Pair = collections.namedtuple("Pair", "a b")


class NamedSamples(NumpySamples):
    def __getitem__(self, i):
        return Pair(X[i], int(Y[i]))


class Stream(vdata.IterableDataset):
    """range(n), split between workers as torch's docs show (get_worker_info)."""

    def __init__(self, n, torch_side=False):
        self.n, self.torch_side = n, torch_side

    def __iter__(self):
        info = (tdata if self.torch_side else vdata).get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.inner = Stream(n, torch_side=True)

    def __iter__(self):
        return iter(self.inner)


def _both(dataset_factory=NumpySamples, **kwargs):
    return list(vdata.DataLoader(dataset_factory(), **kwargs)), list(tdata.DataLoader(dataset_factory(), **kwargs))


def test_tensor_dataset_sequential_batches_equal_torchs():
    ours = list(vdata.DataLoader(vdata.TensorDataset(vt.tensor(X), vt.tensor(Y)), batch_size=4))
    theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=4))
    assert len(ours) == 3
    _assert_same(ours, theirs)


@pytest.mark.parametrize("factory", [NumpySamples, DictSamples, NamedSamples])
def test_default_collate_of_numpy_numbers_strings_dicts_namedtuples_equals_torchs(factory):
    ours, theirs = _both(factory, batch_size=3)
    _assert_same(ours, theirs)
    if factory is NamedSamples:
        assert isinstance(ours[0], Pair)


@pytest.mark.parametrize("drop_last", [False, True])
def test_drop_last_and_len(drop_last):
    loader = vdata.DataLoader(NumpySamples(), batch_size=4, drop_last=drop_last)
    ours, theirs = _both(batch_size=4, drop_last=drop_last)
    _assert_same(ours, theirs)
    assert len(loader) == len(ours) == (2 if drop_last else 3)


def test_batch_size_none_converts_single_samples():
    ours, theirs = _both(batch_size=None)
    assert len(ours) == 10
    _assert_same(ours, theirs)
    assert isinstance(ours[0][0], vt.Tensor) and ours[0][0].shape == (3,)


def test_shuffle_is_a_permutation_each_epoch_and_seeded_by_manual_seed():
    loader = vdata.DataLoader(vdata.TensorDataset(vt.tensor(Y)), batch_size=3, shuffle=True)
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(10))
    assert any((a != b).any() for a, b in itertools.combinations(epochs, 2))
    vt.manual_seed(3)
    first = [b[0].numpy().tolist() for b in loader]
    vt.manual_seed(3)
    assert [b[0].numpy().tolist() for b in loader] == first
    theirs = np.concatenate([b[0].numpy() for b in tdata.DataLoader(tdata.TensorDataset(torch.tensor(Y)),
                                                                     batch_size=3, shuffle=True)])
    assert sorted(theirs.tolist()) == sorted(epochs[0].tolist())


def test_custom_collate_fn_and_batch_sampler():
    def collate(batch):
        return sum(s[1] for s in batch)
    ours, theirs = _both(batch_size=4, collate_fn=collate)
    assert ours == theirs == [6, 22, 17]
    sampler = [[3, 1], [0]]
    ours, theirs = _both(batch_sampler=sampler, collate_fn=collate)
    assert ours == theirs == [4, 0]


def test_samplers_match_torchs_semantics():
    data = list(range(7))
    assert list(vdata.SequentialSampler(data)) == list(tdata.SequentialSampler(data))
    assert list(vdata.BatchSampler(range(7), 3, True)) == list(tdata.BatchSampler(range(7), 3, True))
    assert len(vdata.BatchSampler(range(7), 3, False)) == len(tdata.BatchSampler(range(7), 3, False)) == 3
    assert sorted(vdata.SubsetRandomSampler([5, 2, 9])) == [2, 5, 9]
    s = vdata.RandomSampler(data, num_samples=10)
    drawn = list(s)
    assert len(drawn) == len(s) == 10 and sorted(drawn[:7]) == data
    # with replacement, lazily: minGPT asks for 1e10 samples
    huge = vdata.RandomSampler(data, replacement=True, num_samples=10 ** 10)
    assert len(huge) == 10 ** 10 and all(0 <= i < 7 for i in itertools.islice(huge, 100))
    assert list(vdata.RandomSampler(data, generator=5)) == list(vdata.RandomSampler(data, generator=5))
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        vdata.RandomSampler(data, num_samples=0)
    with pytest.raises(TypeError, match="generator must be None, a vibetensor.Generator, an int seed or a "
                                        "numpy.random.Generator"):
        vdata.RandomSampler(data, generator="x")


def test_subset_concat_and_random_split():
    cat = vdata.Subset(list(range(10)), [4, 2]) + vdata.ConcatDataset([[7, 8], [9]])
    assert [cat[i] for i in range(len(cat))] == [4, 2, 7, 8, 9] and cat[-1] == 9
    parts = vdata.random_split(range(10), [3, 7], generator=0)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(itertools.chain(*parts)) == list(range(10))
    assert list(parts[0]) == list(vdata.random_split(range(10), [3, 7], generator=0)[0])
    fractions = vdata.random_split(range(10), [0.25, 0.75])
    assert [len(p) for p in fractions] == [len(p) for p in tdata.random_split(range(10), [0.25, 0.75])]
    assert not set(fractions[0]) & set(fractions[1])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        vdata.random_split(range(10), [3, 3])


def test_iterable_dataset_batches_equal_torchs():
    for kwargs in ({"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": None}):
        ours = list(vdata.DataLoader(Stream(10), **kwargs))
        theirs = list(tdata.DataLoader(TorchStream(10), **kwargs))
        _assert_same(ours, theirs)


def test_two_workers_give_the_single_process_batches_in_order():
    for factory in (NumpySamples, DictSamples):
        single = list(vdata.DataLoader(factory(), batch_size=3))
        _assert_same(list(vdata.DataLoader(factory(), batch_size=3, num_workers=2)), single)
    tensors = vdata.TensorDataset(vt.tensor(X), vt.tensor(Y))
    _assert_same(list(vdata.DataLoader(tensors, batch_size=4, num_workers=2)),
                 list(vdata.DataLoader(tensors, batch_size=4)))
    halves = vdata.TensorDataset(vt.tensor(X, dtype=vt.bfloat16))  # bfloat16 crosses as float32
    batches = list(vdata.DataLoader(halves, batch_size=5, num_workers=2))
    assert [b[0].dtype for b in batches] == [vt.bfloat16] * 2
    _assert_same([b[0].float() for b in batches], [b[0].float() for b in vdata.DataLoader(halves, batch_size=5)])
    # a stream split by get_worker_info: workers interleave batches as torch's do
    ours = list(vdata.DataLoader(Stream(10), batch_size=2, num_workers=2))
    _assert_same(ours, list(tdata.DataLoader(TorchStream(10), batch_size=2, num_workers=2)))


def test_a_shuffle_does_not_depend_on_the_number_of_workers():
    """Every iterator draws its worker base seed, with workers or without, as torch's does: after one
    manual_seed the shuffled batches, and the global stream after them, are the same for 0 and 2 workers."""
    tensors = vdata.TensorDataset(vt.tensor(X), vt.tensor(Y))
    runs = []
    for workers in (0, 2):
        vt.manual_seed(7)
        batches = list(vdata.DataLoader(tensors, batch_size=4, shuffle=True, num_workers=workers))
        runs.append((batches, vt.rand(3)))
    _assert_same(runs[0][0], runs[1][0])
    _assert_same(runs[0][1], runs[1][1])


class _Alarm:
    """Fails the test instead of hanging it."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def fail(*_):
            raise AssertionError(f"no answer within {self.seconds} s: the DataLoader hangs")
        signal.signal(signal.SIGALRM, fail)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)


class Faulty(NumpySamples):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample 5 is broken")
        return super().__getitem__(i)


class Slow(NumpySamples):
    def __getitem__(self, i):
        time.sleep(30)


def test_a_worker_error_reraises_with_the_worker_traceback():
    with _Alarm(20):
        start = time.monotonic()
        loader = vdata.DataLoader(Faulty(), batch_size=2, num_workers=2, timeout=10)
        with pytest.raises(ValueError) as info:
            list(loader)
        assert time.monotonic() - start < 8
    msg = str(info.value)
    assert "in DataLoader worker process" in msg and "sample 5 is broken" in msg and "__getitem__" in msg
    assert not _workers_alive()


def test_timeout_raises_and_ends_the_workers():
    with _Alarm(20):
        with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
            next(iter(vdata.DataLoader(Slow(), num_workers=1, timeout=0.5)))
    assert not _workers_alive()


def _workers_alive():
    time.sleep(0.1)
    return [p for p in multiprocessing.active_children() if p.is_alive()]


def test_workers_end_when_exhausted_or_collected():
    loader = vdata.DataLoader(NumpySamples(), batch_size=2, num_workers=2)
    list(loader)
    assert not _workers_alive()
    it = iter(loader)
    next(it)
    assert len(_workers_alive()) == 2
    del it
    assert not _workers_alive()


def test_worker_init_fn_and_worker_info():
    seen = []

    def collate(batch):
        info = vdata.get_worker_info()
        return info.id, info.num_workers

    loader = vdata.DataLoader(NumpySamples(), batch_size=5, num_workers=2, collate_fn=collate,
                              worker_init_fn=seen.append)
    assert list(loader) == [(0, 2), (1, 2)]
    assert vdata.get_worker_info() is None

    def broken_init(worker_id):
        raise KeyError("no init")
    with _Alarm(20), pytest.raises(KeyError, match="no init"):
        list(vdata.DataLoader(NumpySamples(), num_workers=1, worker_init_fn=broken_init))


@pytest.mark.parametrize("kwargs, message", [
    ({"sampler": [0, 1], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"batch_size": 0}, "batch_size should be a positive integer value"),
])
def test_invalid_argument_combinations_raise_as_torch(kwargs, message):
    with pytest.raises(ValueError):
        tdata.DataLoader(NumpySamples(), **kwargs)
    with pytest.raises(ValueError, match=message):
        vdata.DataLoader(NumpySamples(), **kwargs)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_refuses_sampling_options(kwargs):
    with pytest.raises(ValueError):
        tdata.DataLoader(TorchStream(3), **kwargs)
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
        vdata.DataLoader(Stream(3), **kwargs)


def test_default_collate_refuses_what_it_cannot_batch():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        vdata.default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        vdata.default_collate([[1, 2], [1]])


def test_install_as_torch_gives_torch_utils_data(tmp_path):
    code = ("import vibetensor, vibetensor.compat; vibetensor.compat.install_as_torch()\n"
            "import torch\nfrom torch.utils.data import DataLoader, Dataset, RandomSampler\n"
            "import vibetensor.utils.data as d\n"
            "print(DataLoader is d.DataLoader and torch.utils.data is d)")
    p = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "True"
