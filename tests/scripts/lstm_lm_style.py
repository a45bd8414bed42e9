"""An LSTM language model written as plain torch code (Embedding, a two-layer batch_first LSTM with dropout
0, Linear, Adam, gradient clipping, carried hidden state detached between steps): tests/test_compat.py runs
it with the real torch and through `python -m vibetensor.run_as_torch` and compares the printed losses."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _seeded import DEVICE, StepTimer, seed_parameters  # noqa: E402

VOCAB, EMBED, HIDDEN, SEQ, BATCH = 20, 12, 16, 10, 4


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, num_layers=2, batch_first=True)
        self.out = nn.Linear(HIDDEN, VOCAB)

    def forward(self, tokens, state=None):
        h, state = self.lstm(self.embed(tokens), state)
        return self.out(h), state


def main():
    model = LM()
    rng = seed_parameters(model)
    model.to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    stream = rng.integers(0, VOCAB, size=(6, BATCH, SEQ + 1))
    state = None
    timer = StepTimer()
    for step in range(6):
        batch = torch.from_numpy(stream[step].astype(np.int64)).to(DEVICE)
        logits, state = model(batch[:, :-1], state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        print("loss", repr(loss.item()))
        timer.tick()
    timer.report()


if __name__ == "__main__":
    main()
