"""minigpt: a GPT language model on a text corpus with a byte-level BPE vocabulary of 4096 (the
synthetic corpus when no file is given). The seq_reverse block at seq 128, dim 256, 8 heads,
6 layers; batch 64, AdamW lr 1e-3, betas (0.9, 0.95), weight decay 0.1 on parameters of two or
more dimensions only, global gradient-norm clip 1.0, seed 42."""
from dataclasses import dataclass

import numpy as np

from vibetensor.experiments.data import text
from vibetensor.experiments.workloads.gpt import build_gpt, init_weights_numpy, lm_loss, load_weights
from vibetensor.experiments.workloads.phases import phase


@dataclass
class Config:
    vocab: int = 4096
    dim: int = 256
    heads: int = 8
    layers: int = 6
    seq: int = 128
    batch: int = 64
    lr: float = 1e-3
    betas: tuple = (0.9, 0.95)
    weight_decay: float = 0.1
    clip_norm: float = 1.0
    text_path: str = ""         # a local text file; empty: the synthetic corpus
    synthetic_bytes: int = 1 << 20
    cache_dir: str = ""         # tokenizer and token cache; empty: $VT_CACHE_DIR or ~/.cache/vibetensor
    seed: int = 42
    fused_rope: bool = False     # vibetensor only: RoPE as one op (gpt.py)
    capturable: bool = False     # AdamW(capturable=True): its step count on the device (step.capture=graph)


def param_groups(model, weight_decay: float) -> list:
    """Decay for matrices (embeddings, projections), none for vectors (norm scales), as GPT
    training recipes do."""
    decay, no_decay = [], []
    for _, p in sorted(model.named_parameters()):
        (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class Workload:
    name = "minigpt"

    def __init__(self, fw, device="cpu", cfg: Config | None = None):
        self.fw, self.device, self.cfg = fw, device, cfg or Config()
        c = self.cfg
        fw.manual_seed(c.seed)
        self.stream = text.load(c.text_path or None, c.vocab, c.cache_dir or None, synthetic_bytes=c.synthetic_bytes)
        self.data_source = self.stream.source
        self.model = build_gpt(fw, c.vocab, c.dim, c.heads, c.layers, c.seq, c.fused_rope).to(device)
        load_weights(fw, self.model, init_weights_numpy(self.model, c.seed), device)
        self.opt = fw.optim.AdamW(param_groups(self.model, c.weight_decay), lr=c.lr, betas=tuple(c.betas),
                                  capturable=c.capturable)
        self.rng = np.random.default_rng(c.seed)

    def next_batch(self):
        x, y = self.stream.batch(self.rng, self.cfg.batch, self.cfg.seq)
        fw = self.fw
        return fw.from_numpy(x).to(self.device), fw.from_numpy(y).to(self.device)

    def step(self, batch) -> float:
        return self.train_step(*batch).item()

    def train_step(self, x, y):
        """One training step on device tensors, returning the loss tensor: nothing reads the host, so
        it can be captured whole (step.capture=graph, Note [Whole-step capture])."""
        fw, c = self.fw, self.cfg
        with phase(fw, "forward"):  # Note [Step ranges]
            loss = lm_loss(fw, self.model, x, y, c.vocab)
        self.opt.zero_grad(set_to_none=True)
        with phase(fw, "backward"):
            loss.backward()
        with phase(fw, "optimizer"):
            fw.nn.utils.clip_grad_norm_(self.model.parameters(), c.clip_norm)
            self.opt.step()
        return loss
