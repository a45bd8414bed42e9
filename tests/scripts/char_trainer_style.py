"""minGPT's character-level trainer pattern written as plain torch code: a Dataset over a text, a
DataLoader (batching, a sequential sampler, drop_last), a small model trained with AdamW: tests/test_compat.py
runs it with the real torch and through `python -m vibetensor.run_as_torch` and compares the printed losses."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, SequentialSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _seeded import DEVICE, StepTimer, seed_parameters  # noqa: E402

TEXT = "the quick brown fox jumps over the lazy dog while the cat sleeps by the warm fire " * 3
BLOCK = 8


class CharDataset(Dataset):
    def __init__(self, text, block):
        chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.vocab, self.block, self.data = len(chars), block, text

    def __len__(self):
        return len(self.data) - self.block

    def __getitem__(self, idx):
        chunk = [self.stoi[c] for c in self.data[idx:idx + self.block + 1]]
        x = torch.tensor(chunk[:-1], dtype=torch.long)
        y = torch.tensor(chunk[1:], dtype=torch.long)
        return x, y


def main():
    ds = CharDataset(TEXT, BLOCK)
    model = nn.Sequential(nn.Embedding(ds.vocab, 16), nn.Linear(16, 32), nn.GELU(), nn.Linear(32, ds.vocab))
    seed_parameters(model)
    model.to(DEVICE)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    loader = DataLoader(ds, batch_size=16, sampler=SequentialSampler(ds), drop_last=True)
    timer = StepTimer()
    for step, (x, y) in enumerate(loader):
        x, y = x.to(DEVICE), y.to(DEVICE)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, ds.vocab), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        print("loss", repr(loss.item()))
        timer.tick()
        if step == 7:
            break
    timer.report()


if __name__ == "__main__":
    main()
