"""vit_cifar: a ViT on CIFAR-10 (or its synthetic stand-in). Patch 4 -> 64 patch tokens plus 16
CLS tokens (averaged before the head), dim 256, depth 6, 8 heads, MLP 1024 with GELU,
pre-RMSNorm; batch 256, AdamW lr 3e-4, betas (0.9, 0.999), wd 0, cosine schedule, seed 42.
With `augment`, every batch goes through the numpy CPU augmentation (augment_batch), which the
runner times inside the step and also records on its own; see Note [ViT step timing].

fused_bias_gelu (a workload option, default off): where `fw` has nn.functional.bias_gelu (vibetensor;
torch has none), the MLP's up projection and GELU are F.linear without the bias and then that one op
adding the bias inside the GELU, instead of the Linear's bias add and a separate GELU. Same parameters,
same initialization, same formula; torch always runs the composed form."""
from dataclasses import dataclass

import numpy as np

from vibetensor.experiments.data import augment as aug
from vibetensor.experiments.data import cifar
from vibetensor.experiments.workloads.phases import phase
from vibetensor.experiments.workloads.weights import init_weights_numpy, load_weights

# Note [ViT step timing]
# VibeTensor's ViT figure times the whole step including its CPU augmentation, and separately
# the step with the augmentation taken out. Here next_batch() (untimed) draws the images and
# scales them to [0, 1]; augment_batch() (timed, recorded as augment_times_s) augments them;
# step() (timed) normalizes them, copies them to the device, and trains. `vit_cifar_noaug` sets
# augment=false: no augmentation at all, the rest identical.


@dataclass
class Config:
    image: int = 32
    patch: int = 4
    cls_tokens: int = 16
    dim: int = 256
    depth: int = 6
    heads: int = 8
    mlp: int = 1024
    classes: int = cifar.NUM_CLASSES
    batch: int = 256
    lr: float = 3e-4
    betas: tuple = (0.9, 0.999)
    weight_decay: float = 0.0
    schedule_steps: int = 1000  # cosine period (T_max); the runner sets it to warmup + steps
    augment: bool = True
    data_dir: str = ""          # extracted cifar-10-batches-py; empty: the synthetic stand-in
    synthetic_size: int = 10000
    seed: int = 42
    capturable: bool = False    # AdamW(capturable=True) with lr a device tensor the schedule updates in place
    fused_bias_gelu: bool = False  # vibetensor only: the MLP's bias add and GELU as one op (module docstring)


def build_vit(fw, c: Config):
    nn, F = fw.nn, fw.nn.functional
    grid = c.image // c.patch
    patch_dim = 3 * c.patch * c.patch
    head_dim = c.dim // c.heads
    fused_bias_gelu = c.fused_bias_gelu and hasattr(F, "bias_gelu")

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(c.dim, 3 * c.dim)
            self.proj = nn.Linear(c.dim, c.dim)

        def forward(self, x):
            b, t, _ = x.shape
            qkv = self.qkv(x).view(b, t, 3, c.heads, head_dim).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
            return self.proj(y.transpose(1, 2).reshape(b, t, c.dim))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Linear(c.dim, c.mlp)
            self.act = nn.GELU()
            self.down = nn.Linear(c.mlp, c.dim)

        def forward(self, x):
            if fused_bias_gelu:  # the same formula as below, the bias add inside the GELU's op
                return self.down(F.bias_gelu(F.linear(x, self.up.weight), self.up.bias))
            return self.down(self.act(self.up(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.RMSNorm(c.dim, eps=1e-5)
            self.attn = Attention()
            self.norm2 = nn.RMSNorm(c.dim, eps=1e-5)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = nn.Linear(patch_dim, c.dim)
            self.cls = nn.Parameter(fw.zeros(1, c.cls_tokens, c.dim))
            self.pos = nn.Parameter(fw.zeros(1, c.cls_tokens + grid * grid, c.dim))
            self.blocks = nn.ModuleList([Block() for _ in range(c.depth)])
            self.norm = nn.RMSNorm(c.dim, eps=1e-5)
            self.head = nn.Linear(c.dim, c.classes)

        def forward(self, images):
            b = images.shape[0]
            # (B, 3, H, W) -> (B, grid*grid, 3*p*p): the patch embedding as reshape/permute + Linear.
            patches = images.reshape(b, 3, grid, c.patch, grid, c.patch).permute(0, 2, 4, 1, 3, 5)
            x = self.patch_embed(patches.reshape(b, grid * grid, patch_dim))
            x = fw.cat([self.cls.expand(b, -1, -1), x], dim=1) + self.pos
            for blk in self.blocks:
                x = blk(x)
            x = self.norm(x)
            return self.head(x[:, :c.cls_tokens].mean(dim=1))

    return ViT()


class Workload:
    name = "vit_cifar"

    def __init__(self, fw, device="cpu", cfg: Config | None = None):
        self.fw, self.device, self.cfg = fw, device, cfg or Config()
        c = self.cfg
        if c.image % c.patch or c.dim % c.heads:
            raise ValueError(f"vit_cifar: image {c.image} must be a multiple of patch {c.patch} and dim {c.dim} of "
                             f"heads {c.heads}")
        fw.manual_seed(c.seed)
        self.data = cifar.load(c.data_dir or None, synthetic_size=c.synthetic_size)
        self.data_source = self.data.source
        self.augments = c.augment
        self.model = build_vit(fw, c).to(device)
        load_weights(fw, self.model, init_weights_numpy(self.model, c.seed), device)
        # Captured (step.capture=graph): the step count and lr live on the device, and the schedule, which
        # runs between replays, writes the lr tensor in place (Note [Capturable Adam]).
        lr = fw.full([], c.lr, device=device) if c.capturable else c.lr
        self.opt = fw.optim.AdamW(self.model.parameters(), lr=lr, betas=tuple(c.betas), weight_decay=c.weight_decay,
                                  capturable=c.capturable)
        self.sched = fw.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=max(1, c.schedule_steps))
        self.rng = np.random.default_rng(c.seed)
        self.mean = cifar.MEAN[:, None, None]
        self.std = cifar.STD[:, None, None]

    def next_batch(self):
        idx = self.rng.choice(len(self.data.train_labels), size=self.cfg.batch, replace=False)
        return self.data.train_images[idx].astype(np.float32) / 255.0, self.data.train_labels[idx]

    def augment_batch(self, batch):
        images, labels = batch
        return aug.augment(images, self.rng), labels

    def step(self, batch) -> float:
        fw = self.fw
        images, labels = batch
        x = fw.from_numpy(np.ascontiguousarray((images - self.mean) / self.std, dtype=np.float32)).to(self.device)
        y = fw.from_numpy(labels).to(self.device)
        loss = self.train_step(x, y)
        with phase(fw, "optimizer"):
            self.sched.step()  # outside train_step: a captured step replays it with the lr tensor's new value
        return loss.item()

    def train_step(self, x, y):
        """Forward, backward and the optimizer step on device tensors, returning the loss tensor: nothing
        reads the host, so it can be captured whole (step.capture=graph, Note [Whole-step capture])."""
        fw = self.fw
        with phase(fw, "forward"):  # Note [Step ranges]
            loss = fw.nn.functional.cross_entropy(self.model(x), y)
        self.opt.zero_grad(set_to_none=True)
        with phase(fw, "backward"):
            loss.backward()
        with phase(fw, "optimizer"):
            self.opt.step()
        return loss
