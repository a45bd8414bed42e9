"""Shared by the style-alike scripts: every parameter of a model drawn from one numpy generator, in
named_parameters order, so torch and vibetensor (through the alias) start from the same numbers; the device
they train on ($VT_STYLE_DEVICE, cpu unless set: the scripts stay plain torch code either way); and a
step timer that benchmarks/bench_style_scripts.py switches on."""
import os
import sys
import time

import numpy as np
import torch

DEVICE = os.environ.get("VT_STYLE_DEVICE", "cpu")


def seed_parameters(model, scale=0.2, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.from_numpy((scale * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
    return rng


class StepTimer:
    """Wall time of each step of a script's training loop, printed to stderr as one `step_ms ...` line when
    $VT_STYLE_TIMING is set (benchmarks/bench_style_scripts.py reads it); stdout, which the tests compare,
    is untouched, and nothing is timed otherwise."""

    def __init__(self):
        self.on = bool(os.environ.get("VT_STYLE_TIMING"))
        self.ms = []
        self.last = time.perf_counter()

    def tick(self):
        """Ends a step (after its loss was read, which waits for the step's work)."""
        if self.on:
            if DEVICE != "cpu":  # the step's kernels may still run when the loss read returns (async copies)
                torch.cuda.synchronize()
            now = time.perf_counter()
            self.ms.append((now - self.last) * 1e3)
            self.last = now

    def report(self):
        if self.on:
            print("step_ms", " ".join(f"{m:.4f}" for m in self.ms), file=sys.stderr, flush=True)
