"""The GPT block shared by seq_reverse and minigpt: RMSNorm, RoPE, causal attention, GELU(tanh)
FFN, no biases, untied head. Written against a framework module `fw` (torch or vibetensor).

fused_rope (a workload option, default off): where `fw` has nn.functional.rotary_embedding
(vibetensor; torch has none), RoPE is that one op instead of the composed slices, products and cat,
as VibeTensor's own GPT examples call their fused kernels. The math is the same formula; torch always
runs the composed form."""
import math

import numpy as np

from vibetensor.experiments.workloads.weights import init_weights_numpy, load_weights  # noqa: F401 (re-exported)


def build_gpt(fw, vocab: int, dim: int, heads: int, layers: int, seq: int, fused_rope: bool = False):
    nn, F = fw.nn, fw.nn.functional
    head_dim = dim // heads

    # RoPE tables (half-split rotation); computed in numpy so both frameworks get identical values.
    inv_freq = 1.0 / (10000.0 ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    angles = np.outer(np.arange(seq, dtype=np.float64), inv_freq)
    cos_np = np.cos(angles).astype(np.float32)
    sin_np = np.sin(angles).astype(np.float32)

    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return fw.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)

    if fused_rope and hasattr(F, "rotary_embedding"):
        rope = F.rotary_embedding  # noqa: F811 (the same formula, one op)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(dim, 3 * dim, bias=False)
            self.proj = nn.Linear(dim, dim, bias=False)

        def forward(self, x, cos, sin):
            b, t, _ = x.shape
            qkv = self.qkv(x).view(b, t, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            q, k = rope(q, cos[:t], sin[:t]), rope(k, cos[:t], sin[:t])
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(b, t, dim))

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Linear(dim, 4 * dim, bias=False)
            self.act = nn.GELU(approximate="tanh")
            self.down = nn.Linear(4 * dim, dim, bias=False)

        def forward(self, x):
            return self.down(self.act(self.up(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.RMSNorm(dim, eps=1e-5)
            self.attn = Attention()
            self.norm2 = nn.RMSNorm(dim, eps=1e-5)
            self.ffn = FeedForward()

        def forward(self, x, cos, sin):
            x = x + self.attn(self.norm1(x), cos, sin)
            return x + self.ffn(self.norm2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, dim)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.norm = nn.RMSNorm(dim, eps=1e-5)
            self.head = nn.Linear(dim, vocab, bias=False)
            self.register_buffer("rope_cos", fw.from_numpy(cos_np.copy()), persistent=False)
            self.register_buffer("rope_sin", fw.from_numpy(sin_np.copy()), persistent=False)

        def forward(self, idx):
            x = self.embed(idx)
            for blk in self.blocks:
                x = blk(x, self.rope_cos, self.rope_sin)
            return self.head(self.norm(x))

    return GPT()


def lm_loss(fw, model, x, y, vocab: int, ignore_index: int = -100):
    """Mean next-token cross-entropy of model(x) against targets y (both (batch, seq))."""
    return fw.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1), ignore_index=ignore_index)


def perplexity_safe(loss: float) -> float:
    return math.exp(min(loss, 50.0))
