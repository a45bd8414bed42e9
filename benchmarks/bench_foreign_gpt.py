"""Training step time of a small GPT written the way a torch user writes one (not the project's own
workloads/gpt.py): RMSNorm as x.pow(2).mean(-1, keepdim=True) and rsqrt, rotary through stack and
flatten of interleaved pairs, SDPA with is_causal, tanh GELU, AdamW; on vibetensor and on torch.

The model is a function of the framework module `fw`, so the same code runs on both; weights are
drawn in numpy and batches too, so both start from identical values. Timing is interleaved: each
round runs a block of steps on each framework (the one going first alternates between rounds), and
the figure is the median over rounds of the mean step time in a block, so drift of a shared machine
reaches both columns alike. --ops adds a per-op breakdown of the same number of steps: vibetensor's
host events (vibetensor.probes.trace, categories op and autograd) beside torch.profiler's
key_averages, both inclusive times per op name with the namespace prefix dropped.

    python -P benchmarks/bench_foreign_gpt.py [--rounds 7] [--block 4] [--ops] [--preset tuned] [--device cuda]

On --device cuda the model and batches live on the GPU and a block's clock is read after the device is
synchronized; --ops then still compares host-side times.
"""
import argparse
import collections
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # its sibling helper, under python -P too
from _cuda_bench_util import device_or_exit  # noqa: E402

CFG = dict(vocab=256, dim=128, heads=4, layers=2, seq=64, batch=16)


def build_gpt(fw, vocab, dim, heads, layers, seq):
    nn, F = fw.nn, fw.nn.functional
    head_dim = dim // heads

    class RMSNorm(nn.Module):
        def __init__(self, d, eps=1e-5):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(fw.ones(d))

        def forward(self, x):
            return x * fw.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    def apply_rotary(x, cos, sin):
        # Interleaved pairs (x0, x1), (x2, x3), ... rotated, then put back in place.
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return fw.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(dim, dim, bias=False)
            self.k = nn.Linear(dim, dim, bias=False)
            self.v = nn.Linear(dim, dim, bias=False)
            self.o = nn.Linear(dim, dim, bias=False)

        def forward(self, x, cos, sin):
            b, t, _ = x.shape
            q = self.q(x).view(b, t, heads, head_dim).transpose(1, 2)
            k = self.k(x).view(b, t, heads, head_dim).transpose(1, 2)
            v = self.v(x).view(b, t, heads, head_dim).transpose(1, 2)
            q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o(y.transpose(1, 2).contiguous().view(b, t, dim))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(dim, 4 * dim)
            self.proj = nn.Linear(4 * dim, dim)

        def forward(self, x):
            return self.proj(F.gelu(self.fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.attn = RMSNorm(dim), Attention()
            self.norm2, self.mlp = RMSNorm(dim), MLP()

        def forward(self, x, cos, sin):
            x = x + self.attn(self.norm1(x), cos, sin)
            return x + self.mlp(self.norm2(x))

    inv_freq = 1.0 / (10000.0 ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    angles = np.outer(np.arange(seq, dtype=np.float64), inv_freq)

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, dim)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.norm_f = RMSNorm(dim)
            self.head = nn.Linear(dim, vocab, bias=False)
            # buffers, so that .to(device) moves them with the weights
            self.register_buffer("cos", fw.from_numpy(np.cos(angles).astype(np.float32)), persistent=False)
            self.register_buffer("sin", fw.from_numpy(np.sin(angles).astype(np.float32)), persistent=False)

        def forward(self, idx):
            x = self.tok(idx)
            t = idx.shape[1]
            for blk in self.blocks:
                x = blk(x, self.cos[:t], self.sin[:t])
            return self.head(self.norm_f(x))

    return GPT()


def numpy_weights(model, seed=0):
    """N(0, 0.02) for matrices, ones for norm scales, zeros for biases, in sorted name order."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in sorted(model.named_parameters()):
        shape = tuple(p.shape)
        if name.rpartition(".")[0].rpartition(".")[2].startswith("norm"):
            out[name] = np.ones(shape, np.float32)
        elif name.endswith("bias"):
            out[name] = np.zeros(shape, np.float32)
        else:
            out[name] = (rng.standard_normal(shape) * 0.02).astype(np.float32)
    return out


class Trainer:
    def __init__(self, fw, weights, batches, device="cpu"):
        self.fw = fw
        self.model = build_gpt(fw, **{k: CFG[k] for k in ("vocab", "dim", "heads", "layers", "seq")})
        with fw.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(fw.from_numpy(weights[name].copy()))
        self.model.to(device)
        self.opt = fw.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.1)
        self.batches = [(fw.from_numpy(x).to(device), fw.from_numpy(y).to(device)) for x, y in batches]
        self.sync = fw.cuda.synchronize if device != "cpu" else (lambda: None)
        self.i = 0

    def step(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        logits = self.model(x)
        loss = self.fw.nn.functional.cross_entropy(logits.view(-1, CFG["vocab"]), y.view(-1))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss


def make_batches(n, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        seq = rng.integers(0, CFG["vocab"], size=(CFG["batch"], CFG["seq"] + 1), dtype=np.int64)
        out.append((np.ascontiguousarray(seq[:, :-1]), np.ascontiguousarray(seq[:, 1:])))
    return out


def block_ms(tr, n):
    tr.sync()
    t0 = time.perf_counter()
    for _ in range(n):
        tr.step()
    tr.sync()
    return (time.perf_counter() - t0) * 1e3 / n


def strip(name):
    for p in ("aten::", "vt::", "autograd::engine::evaluate_function: "):
        if name.startswith(p):
            name = name[len(p):]
    return name


def vt_ops(vt, tr, steps):
    import vibetensor.probes  # noqa: F401
    ms, calls = collections.Counter(), collections.Counter()
    with vt.probes.trace(None) as t:
        for _ in range(steps):
            tr.step()
    # An op's autograd kernel and its backend kernel are both traced under the op's name: count
    # only the outermost event of a name, so each call is counted once.
    events = sorted((b, -e, strip(name), tid) for b, e, name, cat, tid in t.cpu_events if cat in ("op", "autograd"))
    open_ = collections.defaultdict(list)  # tid -> stack of (end, name)
    for b, neg_e, name, tid in events:
        stack = open_[tid]
        while stack and stack[-1][0] <= b:
            stack.pop()
        if not any(n == name for _, n in stack):
            ms[name] += -neg_e - b
            calls[name] += 1
        stack.append((-neg_e, name))
    return {k: v / 1e6 for k, v in ms.items()}, calls


def torch_ops(torch, tr, steps):
    ms, calls = collections.Counter(), collections.Counter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            tr.step()
    for ev in prof.key_averages():
        ms[strip(ev.key)] += ev.cpu_time_total / 1e3
        calls[strip(ev.key)] += ev.count
    return ms, calls


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--block", type=int, default=4, help="steps per framework per round")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--check-steps", type=int, default=5, help="steps whose losses are compared")
    p.add_argument("--preset", default="tuned")
    p.add_argument("--ops", action="store_true", help="per-op breakdown of --op-steps steps")
    p.add_argument("--op-steps", type=int, default=12)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    a = p.parse_args()
    where = device_or_exit("bench_foreign_gpt", a.device)

    import torch
    import vibetensor as vt
    vt.policy.apply_preset(a.preset)
    fws = {"vibetensor": vt, "torch": torch}
    torch.manual_seed(0)
    weights = numpy_weights(build_gpt(torch, **{k: CFG[k] for k in ("vocab", "dim", "heads", "layers", "seq")}))
    batches = make_batches(8)
    print(f"on {where}; config {CFG}; preset {a.preset}; torch {torch.__version__} threads {torch.get_num_threads()}")

    # Loss agreement on fresh trainers from the same weights and batches.
    check = {n: Trainer(fw, weights, batches, a.device) for n, fw in fws.items()}
    losses = {n: [float(tr.step().item()) for _ in range(a.check_steps)] for n, tr in check.items()}
    diff = max(abs(x - y) for x, y in zip(losses["vibetensor"], losses["torch"]))
    print("losses vibetensor " + " ".join(f"{v:.5f}" for v in losses["vibetensor"]))
    print("losses torch      " + " ".join(f"{v:.5f}" for v in losses["torch"]))
    print(f"max |loss difference| over {a.check_steps} steps: {diff:.2e}")

    trainers = {n: Trainer(fw, weights, batches, a.device) for n, fw in fws.items()}
    for tr in trainers.values():
        block_ms(tr, a.warmup)
    samples = {n: [] for n in fws}
    names = list(fws)
    for r in range(a.rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            samples[n].append(block_ms(trainers[n], a.block))
    med = {n: statistics.median(v) for n, v in samples.items()}
    print(f"step ms, median of {a.rounds} rounds x {a.block} steps (interleaved): vibetensor {med['vibetensor']:.2f}  "
          f"torch {med['torch']:.2f}  ratio {med['vibetensor'] / med['torch']:.2f}x")
    print("  rounds vibetensor " + " ".join(f"{v:.1f}" for v in samples["vibetensor"]))
    print("  rounds torch      " + " ".join(f"{v:.1f}" for v in samples["torch"]))

    if a.ops:
        vms, vcalls = vt_ops(vt, trainers["vibetensor"], a.op_steps)
        vms = collections.Counter(vms)
        tms, tcalls = torch_ops(torch, trainers["torch"], a.op_steps)
        print(f"\nper-op inclusive host ms over {a.op_steps} steps (vibetensor ops by time; '-' where the other "
              "framework has no op of that name)")
        print(f"  {'op':<34} {'vt ms':>9} {'calls':>6} {'torch ms':>9} {'calls':>6} {'ratio':>7}")
        for name, v in vms.most_common(a.top):
            t = tms.get(name)
            ratio = f"{v / t:6.2f}x" if t else "      -"
            ts = f"{t:9.2f} {tcalls[name]:6d}" if t else f"{'-':>9} {'-':>6}"
            print(f"  {name:<34} {v:9.2f} {vcalls[name]:6d} {ts} {ratio}")
        print("\ntorch's ops by time:")
        for name, t in tms.most_common(a.top // 2):
            print(f"  {name:<50} {t:9.2f} {tcalls[name]:6d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
