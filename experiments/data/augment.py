"""Per-batch CPU augmentation of CIFAR images in numpy, as VibeTensor's ViT example does on the
host: reflect-pad-4 random crop, horizontal flip, brightness and contrast x U(0.8, 1.2), cutout
of 8-16 px with p=0.5. Input and output float32 (B, 3, H, W) in [0, 1]; all randomness from the
given generator, so two runs with the same seed see the same batches."""
import numpy as np


def random_crop(x: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    b, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")
    oy = rng.integers(0, 2 * pad + 1, size=b)
    ox = rng.integers(0, 2 * pad + 1, size=b)
    rows = (oy[:, None] + np.arange(h))[:, None, :, None]
    cols = (ox[:, None] + np.arange(w))[:, None, None, :]
    return padded[np.arange(b)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


def horizontal_flip(x: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    flip = rng.random(x.shape[0]) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def brightness_contrast(x: np.ndarray, rng: np.random.Generator, lo: float = 0.8, hi: float = 1.2) -> np.ndarray:
    b = x.shape[0]
    bright = rng.uniform(lo, hi, size=b).astype(np.float32)[:, None, None, None]
    contrast = rng.uniform(lo, hi, size=b).astype(np.float32)[:, None, None, None]
    x = x * bright
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip((x - mean) * contrast + mean, 0.0, 1.0)


def cutout(x: np.ndarray, rng: np.random.Generator, lo: int = 8, hi: int = 16, p: float = 0.5) -> np.ndarray:
    x = x.copy()
    b, _, h, w = x.shape
    apply = rng.random(b) < p
    size = rng.integers(lo, hi + 1, size=b)
    cy = rng.integers(0, h, size=b)
    cx = rng.integers(0, w, size=b)
    for i in np.flatnonzero(apply):  # the square is centred anywhere and clipped at the border
        y0, x0 = cy[i] - size[i] // 2, cx[i] - size[i] // 2
        x[i, :, max(y0, 0):min(y0 + size[i], h), max(x0, 0):min(x0 + size[i], w)] = 0.0
    return x


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = random_crop(x, rng)
    x = horizontal_flip(x, rng)
    x = brightness_contrast(x, rng)
    return np.ascontiguousarray(cutout(x, rng), dtype=np.float32)
