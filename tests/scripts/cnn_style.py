"""A small CNN on 28x28 images written as plain torch code (Conv2d, ReLU, MaxPool2d, BatchNorm2d,
AdaptiveAvgPool2d, Flatten, Dropout in eval, SGD with momentum): tests/test_compat.py runs it with the real
torch and through `python -m vibetensor.run_as_torch` and compares the printed losses and accuracy."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _seeded import DEVICE, StepTimer, seed_parameters  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.features(x))


def main():
    model = Net()
    rng = seed_parameters(model, scale=0.3)
    model.to(DEVICE)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    images = rng.standard_normal((6, 16, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, size=(6, 16))
    model.train()
    timer = StepTimer()
    for step in range(6):
        x, y = torch.from_numpy(images[step]).to(DEVICE), torch.from_numpy(labels[step].astype(np.int64)).to(DEVICE)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print("loss", repr(loss.item()))
        timer.tick()
    timer.report()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images[0]).to(DEVICE))
    print("eval", repr(float(logits.sum())))


if __name__ == "__main__":
    main()
