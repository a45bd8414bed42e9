"""Identical initial weights for both frameworks: drawn in numpy, loaded into the model."""
import numpy as np


def init_weights_numpy(model, seed: int, std: float = 0.02) -> dict:
    """N(0, std) for every weight, ones for norm scales (a parameter `weight` of a module whose
    name starts with "norm"), zeros for biases; drawn in sorted parameter-name order from one
    numpy generator so vibetensor and PyTorch start from the same values."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, p in sorted(model.named_parameters()):
        shape = tuple(p.shape)
        owner, _, leaf = name.rpartition(".")
        if leaf == "weight" and owner.rpartition(".")[2].startswith("norm"):
            weights[name] = np.ones(shape, dtype=np.float32)
        elif leaf == "bias":
            weights[name] = np.zeros(shape, dtype=np.float32)
        else:
            weights[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    return weights


def load_weights(fw, model, weights: dict, device) -> None:
    with fw.no_grad():
        for name, p in model.named_parameters():
            p.copy_(fw.from_numpy(weights[name].copy()).to(device))
