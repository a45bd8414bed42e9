"""nanoGPT's train.py set-up (seeds, TF32 and cuDNN flags, DDP when launched with RANK set, its autocast
context and GradScaler, gradient clipping after unscale_) and minGPT's
generate() (top-k crop, softmax, multinomial), written as plain torch code: tests/test_compat.py runs it with
the real torch and through `python -m vibetensor.run_as_torch`, and compares what it prints.

Weights and batches come from numpy (seeded). It prints the training losses, the greedy continuation
(top_k=1: the same tokens on any framework), and checks on a sampled one (top_k=5: tokens from the top 5).
"""
import math
import os
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed import destroy_process_group, init_process_group
from torch.nn.parallel import DistributedDataParallel as DDP

VOCAB, CONTEXT, WIDTH, HEADS = 24, 8, 16, 2


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(WIDTH, 3 * WIDTH)
        self.c_proj = nn.Linear(WIDTH, WIDTH)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(WIDTH, dim=2)
        q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, WIDTH)
        self.wpe = nn.Embedding(CONTEXT, WIDTH)
        self.ln = nn.LayerNorm(WIDTH)
        self.attn = CausalSelfAttention()
        self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)

    def forward(self, idx, targets=None):
        pos = torch.arange(0, idx.size(1), dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        x = x + self.attn(self.ln(x))
        logits = self.lm_head(x)
        if targets is None:
            return logits[:, [-1], :], None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= CONTEXT else idx[:, -CONTEXT:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def main():
    ddp = int(os.environ.get("RANK", -1)) != -1
    if ddp:
        init_process_group(backend="gloo")
        master_process = int(os.environ["RANK"]) == 0
        seed_offset = int(os.environ["RANK"])
    else:
        master_process, seed_offset = True, 0
    torch.manual_seed(1337 + seed_offset)
    torch.cuda.manual_seed_all(1337 + seed_offset)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = False
    device_type = "cpu"  # nanoGPT: 'cuda' if 'cuda' in device else 'cpu'
    dtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float16"
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    scaler = torch.amp.GradScaler("cpu", enabled=(dtype == "float16"))  # nanoGPT: torch.cuda.amp.GradScaler
    rng = np.random.default_rng(0)
    model = GPT()
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.from_numpy((0.3 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
    if ddp:
        model = DDP(model, device_ids=None)
    raw_model = model.module if ddp else model
    optimizer = torch.optim.AdamW(raw_model.parameters(), lr=1e-2)
    data = torch.from_numpy(rng.integers(0, VOCAB, size=(3, 2, 2, CONTEXT + 1)).astype(np.int64))
    for step in range(3):
        for micro_step in range(2):
            if ddp:
                model.require_backward_grad_sync = micro_step == 1
            batch = data[step, micro_step]
            x, y = batch[:, :-1].contiguous(), batch[:, 1:].contiguous()  # (get_batch stacks them)
            with ctx:
                _, loss = model(x, y)
            scaler.scale(loss / 2).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if master_process:
            print("loss", repr(loss.item()), "scale", scaler.get_scale())
    raw_model.eval()
    start = torch.tensor([[1, 2, 3]], dtype=torch.long)
    print("greedy", raw_model.generate(start, 10, top_k=1)[0].tolist())
    sampled = raw_model.generate(start, 10, temperature=0.8, top_k=5)
    print("sampled", sampled.shape[1] == 13 and all(0 <= t < VOCAB for t in sampled[0].tolist()),
          math.isfinite(float(sampled.float().mean())))
    if ddp:
        destroy_process_group()


if __name__ == "__main__":
    main()
