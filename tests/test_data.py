"""Data sources of the workloads: the CIFAR-10 loader (real pickle batches the test writes, and
clear errors for missing or corrupt ones), the augmentation, the byte-level BPE tokenizer, the
text token stream and the MNIST IDX reader."""
import gzip
import os
import pickle
import struct
from collections import Counter

import numpy as np
import pytest

from vibetensor.experiments.data import augment, bpe, cifar, mnist, text


def write_batch(path, n, seed, str_keys=False, override=None):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
             b"labels": [int(v) for v in rng.integers(0, 10, size=n)], b"batch_label": b"test"}
    batch.update(override or {})
    if str_keys:
        batch = {k.decode(): v for k, v in batch.items()}
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    return batch


def write_cifar(folder, n=4):
    os.makedirs(folder, exist_ok=True)
    written = [write_batch(os.path.join(folder, name), n, i, str_keys=(i == 2))
               for i, name in enumerate(cifar.TRAIN_BATCHES + (cifar.TEST_BATCH,))]
    return written


def test_cifar_loads_pickle_batches(tmp_path):
    written = write_cifar(tmp_path / "c")
    d = cifar.load(str(tmp_path / "c"))
    assert d.train_images.shape == (20, 3, 32, 32) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (4, 3, 32, 32) and d.train_labels.dtype == np.int64
    # CIFAR rows are channel-major: the first 1024 values are the red plane.
    np.testing.assert_array_equal(d.train_images[0, 0].ravel(), written[0][b"data"][0, :1024])
    np.testing.assert_array_equal(d.train_labels[4:8], written[1][b"labels"])
    np.testing.assert_array_equal(d.train_labels[8:12], written[2]["labels"])  # str-keyed pickle
    assert d.source == f"real:{tmp_path / 'c'}"


def test_cifar_missing_folder_and_batch(tmp_path):
    with pytest.raises(FileNotFoundError, match="CIFAR-10 folder .* does not exist"):
        cifar.load(str(tmp_path / "nope"))
    write_cifar(tmp_path / "c")
    os.remove(tmp_path / "c" / "data_batch_3")
    with pytest.raises(FileNotFoundError, match="data_batch_3.* does not exist"):
        cifar.load(str(tmp_path / "c"))


@pytest.mark.parametrize("corrupt, message", [
    (lambda p: open(p, "wb").write(b"not a pickle"), "cannot unpickle"),
    (lambda p: open(p, "wb").write(pickle.dumps({b"data": 1})[:-3]), "cannot unpickle"),
    (lambda p: pickle.dump([1, 2], open(p, "wb")), "expected a dict"),
    (lambda p: pickle.dump({b"images": 1, b"labels": []}, open(p, "wb")), "expected keys 'data' and 'labels'"),
    (lambda p: write_batch(p, 4, 0, override={b"data": np.zeros((4, 3000), np.uint8)}), r"shape \(n, 3072\)"),
    (lambda p: write_batch(p, 4, 0, override={b"data": np.zeros((4, 3072), np.float32)}), "must be uint8"),
    (lambda p: write_batch(p, 4, 0, override={b"labels": [0, 1, 2]}), "one per image"),
    (lambda p: write_batch(p, 4, 0, override={b"labels": [0, 1, 2, 10]}), r"labels must lie in \[0, 10\)"),
])
def test_cifar_corrupt_batch_is_a_clear_error(tmp_path, corrupt, message):
    write_cifar(tmp_path / "c")
    corrupt(str(tmp_path / "c" / "test_batch"))
    with pytest.raises(ValueError, match=f"test_batch.*corrupt.*{message}"):
        cifar.load(str(tmp_path / "c"))


def test_cifar_synthetic_is_deterministic_and_marked():
    a, b = cifar.load(None, synthetic_size=300), cifar.load("", synthetic_size=300)
    assert a.source == "synthetic"
    assert a.train_images.shape == (300, 3, 32, 32) and a.train_images.dtype == np.uint8
    np.testing.assert_array_equal(a.train_images, b.train_images)
    np.testing.assert_array_equal(a.train_labels, b.train_labels)
    assert set(np.unique(a.train_labels)) <= set(range(10))


def test_augmentation_is_deterministic_and_keeps_shape_and_range():
    x = np.random.default_rng(0).random((32, 3, 32, 32), dtype=np.float32)
    a = augment.augment(x, np.random.default_rng(1))
    b = augment.augment(x, np.random.default_rng(1))
    assert a.shape == x.shape and a.dtype == np.float32 and a.flags.c_contiguous
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert not np.array_equal(a, x)


def test_crop_is_a_window_of_the_reflect_padded_image():
    x = np.random.default_rng(0).random((8, 3, 32, 32), dtype=np.float32)
    rng = np.random.default_rng(5)
    out = augment.random_crop(x, rng)
    rng2 = np.random.default_rng(5)
    oy, ox = rng2.integers(0, 9, size=8), rng2.integers(0, 9, size=8)
    padded = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)), mode="reflect")
    for i in range(8):
        np.testing.assert_array_equal(out[i], padded[i, :, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32])


def test_cutout_zeroes_squares_of_8_to_16_pixels():
    x = np.ones((64, 3, 32, 32), dtype=np.float32)
    out = augment.cutout(x, np.random.default_rng(0), p=1.0)
    zeroed = (out[:, 0] == 0).sum(axis=(1, 2))
    assert (zeroed > 0).all() and zeroed.max() <= 16 * 16
    assert (out[:, 0] == out[:, 1]).all()  # all channels of the square
    assert augment.cutout(x, np.random.default_rng(0), p=0.0).min() == 1.0


def naive_bpe_merges(data: bytes, vocab_size: int) -> list:
    """Reference: re-count every pair of every chunk occurrence before each merge."""
    words = [list(c) for c in bpe.chunks(data)]
    merges = []
    while len(merges) < vocab_size - 256:
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        if not counts:
            break
        pair, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 2:
            break
        new = 256 + len(merges)
        merges.append(pair)
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[k] = out
    return merges


def test_bpe_matches_the_naive_algorithm():
    data = text.synthetic_corpus(20000, seed=3) + "naïve café – ünïcödé aaaa aaaa".encode()
    tok = bpe.train(data, 400)
    assert tok.merges == naive_bpe_merges(data, 400)
    assert tok.vocab_size == 400


def test_bpe_round_trips_any_bytes_and_compresses():
    data = text.synthetic_corpus(30000, seed=1)
    tok = bpe.train(data, 600)
    ids = tok.encode(data)
    assert tok.decode(ids) == data and len(ids) < len(data) / 2
    assert max(ids) < tok.vocab_size
    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 1000):
        raw = rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()
        assert tok.decode(tok.encode(raw)) == raw
    s = "Grüße, 世界!\n\t  \x00end"
    assert tok.decode(tok.encode(s)).decode("utf-8") == s
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([1, 600])
    with pytest.raises(ValueError, match="at least 256"):
        bpe.train(data, 100)


def test_bpe_stops_when_no_pair_repeats():
    tok = bpe.train(b"abcdef", 4096)
    assert tok.vocab_size == 256


def test_bpe_cache_hit_and_determinism(tmp_path):
    data = text.synthetic_corpus(20000, seed=2)
    first = bpe.train_cached(data, 500, str(tmp_path))
    second = bpe.train_cached(data, 500, str(tmp_path))
    assert not first.from_cache and second.from_cache
    assert first.merges == second.merges == bpe.train(data, 500).merges
    other = bpe.train_cached(data, 400, str(tmp_path))  # another vocab size: another entry
    assert not other.from_cache and len(os.listdir(tmp_path)) == 2
    (entry,) = [p for p in tmp_path.iterdir() if p.name.endswith("-500.json")]
    entry.write_text("{broken")
    again = bpe.train_cached(data, 500, str(tmp_path))  # an unreadable entry is retrained
    assert not again.from_cache and again.merges == first.merges


def test_text_stream_from_file_and_synthetic(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(text.synthetic_corpus(20000, seed=4))
    s = text.load(str(corpus), 400, str(tmp_path / "cache"))
    assert s.source == f"real:{corpus}" and s.tokens.dtype == np.int64
    assert s.tokenizer.decode(s.tokens.tolist()) == corpus.read_bytes()
    x, y = s.batch(np.random.default_rng(0), 4, 16)
    assert x.shape == y.shape == (4, 16)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    x2, _ = s.batch(np.random.default_rng(0), 4, 16)
    np.testing.assert_array_equal(x, x2)
    again = text.load(str(corpus), 400, str(tmp_path / "cache"))  # tokens from the cache
    assert again.tokenizer.from_cache
    np.testing.assert_array_equal(again.tokens, s.tokens)
    syn = text.load(None, 300, str(tmp_path / "cache"), synthetic_bytes=5000)
    assert syn.source == "synthetic"
    assert text.synthetic_corpus(5000) == text.synthetic_corpus(5000) and len(text.synthetic_corpus(5000)) == 5000
    with pytest.raises(FileNotFoundError, match="does not exist"):
        text.load(str(tmp_path / "missing.txt"), 300, str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="too few"):
        s.batch(np.random.default_rng(0), 2, len(s.tokens))


def write_idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_mnist_idx_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28))
    labels = np.array([0, 3, 9, 1, 2])
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    x, y = mnist.load_folder(str(tmp_path))
    assert x.shape == (5, 784) and x.dtype == np.float32
    np.testing.assert_allclose(x[1], images[1].ravel() / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(ValueError, match="declares shape"):
        mnist.load_folder(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist.load_folder(str(tmp_path / "nope"))
    xs, ys = mnist.synthetic(100)
    np.testing.assert_array_equal(xs, mnist.synthetic(100)[0])
    assert xs.shape == (100, 784) and 0 <= xs.min() and xs.max() <= 1
