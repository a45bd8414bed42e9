"""A small PyTorch training script written as plain torch code: tests/test_compat.py runs it with the real
torch and through `python -m vibetensor.run_as_torch`, and compares the printed losses.

Weights and batches come from numpy (seeded), so both runs start from the same numbers; it prints one
loss per step, as repr of a Python float. Usage: torch_style_train.py [steps]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import AdamW
from torch.optim.lr_scheduler import CosineAnnealingLR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _seeded import DEVICE, StepTimer  # noqa: E402

VOCAB, CONTEXT, WIDTH, BATCH = 32, 8, 16, 4


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(WIDTH)
        self.up = nn.Linear(WIDTH, 4 * WIDTH)
        self.down = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        return x + self.down(F.gelu(self.up(self.norm(x))))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        self.position = nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def setup(steps):
    """The model with weights drawn from numpy, AdamW, the cosine schedule and the batches of `steps` steps."""
    rng = np.random.default_rng(0)
    model = TinyLM()
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.from_numpy((0.2 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
    model.to(DEVICE)
    optimizer = AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=steps)
    data = rng.integers(0, VOCAB, size=(steps, BATCH, CONTEXT + 1))
    return model, optimizer, scheduler, data


def train_step(model, optimizer, scheduler, tokens):
    """One step on a [BATCH, CONTEXT + 1] numpy batch; returns the loss as a Python float."""
    batch = torch.from_numpy(tokens.astype(np.int64)).to(DEVICE)
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    return loss.item()


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    model, optimizer, scheduler, data = setup(steps)
    timer = StepTimer()
    for step in range(steps):
        print(repr(train_step(model, optimizer, scheduler, data[step])))
        timer.tick()
    timer.report()


if __name__ == "__main__":
    main()
