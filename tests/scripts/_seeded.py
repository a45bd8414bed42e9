"""Shared by the style-alike scripts: every parameter of a model drawn from one numpy generator, in
named_parameters order, so torch and vibetensor (through the alias) start from the same numbers."""
import numpy as np
import torch


def seed_parameters(model, scale=0.2, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.from_numpy((scale * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
    return rng
