"""CIFAR-10 from its python pickle batches (data_batch_1..5, test_batch), or a deterministic
synthetic stand-in of the same shapes when no folder is given. Images are uint8 (N, 3, 32, 32),
labels int64 (N,)."""
import os
import pickle
from dataclasses import dataclass

import numpy as np

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)
# Channel statistics of the CIFAR-10 training set (images scaled to [0, 1]).
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


@dataclass
class Cifar:
    train_images: np.ndarray  # uint8 (N, 3, 32, 32)
    train_labels: np.ndarray  # int64 (N,)
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str               # "real:<folder>" or "synthetic"


def _field(batch: dict, name: str):
    # Pickles written by Python 2 (the official archive) have bytes keys; re-pickled ones str keys.
    for key in (name, name.encode()):
        if key in batch:
            return batch[key]
    return None


def load_batch(path: str):
    """One pickle batch -> (images uint8 (n, 3, 32, 32), labels int64 (n,))."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CIFAR-10 batch file {path!r} does not exist (expected the python pickle batches "
                                f"{', '.join(TRAIN_BATCHES)}, {TEST_BATCH} from cifar-10-python.tar.gz)")
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as e:  # truncated or not a pickle at all
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: cannot unpickle it ({type(e).__name__}: {e})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: expected a dict with 'data' and 'labels', "
                         f"got {type(batch).__name__}")
    data, labels = _field(batch, "data"), _field(batch, "labels")
    if data is None or labels is None:
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in batch)
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: expected keys 'data' and 'labels', found {keys}")
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: 'data' must be uint8 of shape (n, 3072), "
                         f"got {data.dtype} of shape {data.shape}")
    labels = np.asarray(labels)
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: 'labels' must be {data.shape[0]} integers (one per "
                         f"image), got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"CIFAR-10 batch {path!r} is corrupt: labels must lie in [0, {NUM_CLASSES}), "
                         f"got values in [{labels.min()}, {labels.max()}]")
    return data.reshape(-1, *IMAGE_SHAPE), labels.astype(np.int64)


def load_folder(folder: str) -> Cifar:
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"CIFAR-10 folder {folder!r} does not exist (expected the extracted "
                                "cifar-10-batches-py folder)")
    train = [load_batch(os.path.join(folder, name)) for name in TRAIN_BATCHES]
    test_x, test_y = load_batch(os.path.join(folder, TEST_BATCH))
    return Cifar(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), test_x, test_y,
                 f"real:{os.path.abspath(folder)}")


def synthetic(n_train: int = 10000, n_test: int = 1000, seed: int = 0) -> Cifar:
    """CIFAR-shaped images whose colour and a coarse pattern depend on the label (so a model can
    learn something), plus noise; the same for a given seed on every machine."""
    rng = np.random.default_rng(seed)
    protos = rng.uniform(40, 215, size=(NUM_CLASSES, 3, 4, 4)).astype(np.float32)  # per class: a 4x4 colour layout, upscaled

    def make(n):
        labels = rng.integers(0, NUM_CLASSES, size=n)
        images = np.empty((n, *IMAGE_SHAPE), dtype=np.uint8)
        for lo in range(0, n, 1024):  # in slices, to keep the float temporaries small
            part = labels[lo:lo + 1024]
            base = np.repeat(np.repeat(protos[part], 8, axis=2), 8, axis=3)
            noise = rng.standard_normal((len(part), *IMAGE_SHAPE), dtype=np.float32) * 30.0
            images[lo:lo + 1024] = np.clip(base + noise, 0, 255).astype(np.uint8)
        return images, labels.astype(np.int64)

    train_x, train_y = make(n_train)
    test_x, test_y = make(n_test)
    return Cifar(train_x, train_y, test_x, test_y, "synthetic")


def load(folder: str | None, synthetic_size: int = 10000) -> Cifar:
    """The real dataset from `folder`, or the synthetic stand-in when folder is None or empty."""
    return load_folder(folder) if folder else synthetic(n_train=synthetic_size, n_test=max(1, synthetic_size // 10))
