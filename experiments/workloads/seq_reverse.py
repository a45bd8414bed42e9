"""seq_reverse: learn to reverse a sequence. `<BOS> a1..an <SEP> an..a1 <EOS>`, n ~ U{1..16},
vocab 36 (4 specials + 32 symbols), padded; loss only on the reversed half and <EOS>.
GPT block dim 128, 4 heads, 2 layers; batch 64, SGD lr 0.1, grads clamped to [-1, 1], seed 123."""
from dataclasses import dataclass

import numpy as np

from vibetensor.experiments.workloads.gpt import build_gpt, init_weights_numpy, lm_loss, load_weights
from vibetensor.experiments.workloads.phases import phase

PAD, BOS, SEP, EOS = 0, 1, 2, 3
NUM_SPECIAL, NUM_SYMBOLS = 4, 32
IGNORE = -100


@dataclass
class Config:
    vocab: int = NUM_SPECIAL + NUM_SYMBOLS
    dim: int = 128
    heads: int = 4
    layers: int = 2
    seq: int = 64
    max_len: int = 16
    batch: int = 64
    lr: float = 0.1
    clip_value: float = 1.0
    seed: int = 123
    fused_rope: bool = False     # vibetensor only: RoPE as one op (gpt.py)


def make_batch(rng: np.random.Generator, cfg: Config):
    """Inputs (batch, seq) and targets (batch, seq) as int64 numpy arrays; targets are IGNORE
    except where the next token is part of the reversed answer or <EOS>."""
    inputs = np.full((cfg.batch, cfg.seq), PAD, dtype=np.int64)
    targets = np.full((cfg.batch, cfg.seq), IGNORE, dtype=np.int64)
    for b in range(cfg.batch):
        n = int(rng.integers(1, cfg.max_len + 1))
        sym = rng.integers(NUM_SPECIAL, NUM_SPECIAL + NUM_SYMBOLS, size=n)
        full = np.concatenate([[BOS], sym, [SEP], sym[::-1], [EOS]])
        x, y = full[:-1], full[1:]
        inputs[b, : len(x)] = x
        sep_pos = n + 1  # index of <SEP> in x
        targets[b, sep_pos : len(y)] = y[sep_pos:]
    return inputs, targets


class Workload:
    """One training run of seq_reverse on framework `fw` (torch or vibetensor)."""

    name = "seq_reverse"
    data_source = "synthetic"  # generated, never read from disk

    def __init__(self, fw, device="cpu", cfg: Config | None = None):
        self.fw, self.device, self.cfg = fw, device, cfg or Config()
        c = self.cfg
        fw.manual_seed(c.seed)
        self.model = build_gpt(fw, c.vocab, c.dim, c.heads, c.layers, c.seq, c.fused_rope).to(device)
        load_weights(fw, self.model, init_weights_numpy(self.model, c.seed), device)
        self.opt = fw.optim.SGD(self.model.parameters(), lr=c.lr)
        self.rng = np.random.default_rng(c.seed)

    def next_batch(self):
        x, y = make_batch(self.rng, self.cfg)
        fw = self.fw
        return fw.from_numpy(x).to(self.device), fw.from_numpy(y).to(self.device)

    def step(self, batch) -> float:
        return self.train_step(*batch).item()

    def train_step(self, x, y):
        """One training step on device tensors, returning the loss tensor: nothing reads the host, so
        it can be captured whole (step.capture=graph, Note [Whole-step capture])."""
        fw, c = self.fw, self.cfg
        with phase(fw, "forward"):  # Note [Step ranges]
            loss = lm_loss(fw, self.model, x, y, c.vocab, IGNORE)
        self.opt.zero_grad(set_to_none=True)
        with phase(fw, "backward"):
            loss.backward()
        with phase(fw, "optimizer"):
            with fw.no_grad():
                for p in self.model.parameters():
                    p.grad.clamp_(-c.clip_value, c.clip_value)
            self.opt.step()
        return loss
