"""MNIST-shaped data: the IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, optionally
.gz) from a folder, or a deterministic synthetic stand-in. Images float32 (N, 784) in [0, 1],
labels int64 (N,)."""
import gzip
import os

import numpy as np

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


def read_idx(path: str) -> np.ndarray:
    """An IDX file (unsigned-byte data only, as MNIST's) -> ndarray of its declared shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path!r} is not an unsigned-byte IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(dims)):
        raise ValueError(f"{path!r} is corrupt: its header declares shape {dims} ({int(np.prod(dims))} bytes) but "
                         f"{len(body)} bytes follow")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(folder: str, name: str) -> str:
    for candidate in (name, name + ".gz"):
        if os.path.isfile(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    raise FileNotFoundError(f"MNIST file {name} (or {name}.gz) not found in {folder!r}")


def load_folder(folder: str):
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"MNIST folder {folder!r} does not exist")
    images, labels = read_idx(_find(folder, IMAGES)), read_idx(_find(folder, LABELS))
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise ValueError(f"MNIST files in {folder!r} disagree: images {images.shape}, labels {labels.shape}")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, labels.astype(np.int64)


def synthetic(n: int = 60000, seed: int = 0):
    """Per class a fixed random 28x28 prototype plus noise, so the MLP has something to learn."""
    rng = np.random.default_rng(seed)
    protos = rng.random((10, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=n)
    images = np.clip(protos[labels] + rng.normal(0, 0.3, size=(n, 784)).astype(np.float32), 0, 1)
    return images.astype(np.float32), labels.astype(np.int64)
