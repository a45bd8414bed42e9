"""mnist_mlp: a 784-256-10 ReLU MLP on MNIST-shaped data (IDX files from a folder, or the
synthetic stand-in), batch 128, SGD lr 0.1. Two variants, as VibeTensor's MNIST rows:
`mnist_mlp` trains through autograd; `mnist_mlp_manual` (manual=true) writes the forward and
backward out with matmuls and updates the weights by hand, no autograd at all. Both start from the
same weights and see the same batches, so their losses agree too."""
from dataclasses import dataclass

import numpy as np

from vibetensor.experiments.data import mnist
from vibetensor.experiments.workloads.phases import phase
from vibetensor.experiments.workloads.weights import init_weights_numpy, load_weights

CLASSES = 10


@dataclass
class Config:
    inputs: int = 784
    hidden: int = 256
    batch: int = 128
    lr: float = 0.1
    manual: bool = False
    data_dir: str = ""          # folder with the MNIST IDX files; empty: the synthetic stand-in
    synthetic_size: int = 10000
    init_std: float = 0.05
    seed: int = 0


def build_mlp(fw, c: Config):
    nn = fw.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(c.inputs, c.hidden)
            self.fc2 = nn.Linear(c.hidden, CLASSES)

        def forward(self, x):
            return self.fc2(fw.relu(self.fc1(x)))

    return MLP()


class Workload:
    name = "mnist_mlp"

    def __init__(self, fw, device="cpu", cfg: Config | None = None):
        self.fw, self.device, self.cfg = fw, device, cfg or Config()
        c = self.cfg
        fw.manual_seed(c.seed)
        if c.data_dir:
            self.images, self.labels = mnist.load_folder(c.data_dir)
            self.data_source = f"real:{c.data_dir}"
        else:
            self.images, self.labels = mnist.synthetic(c.synthetic_size)
            self.data_source = "synthetic"
        if self.images.shape[1] != c.inputs:
            raise ValueError(f"mnist_mlp: images have {self.images.shape[1]} pixels but inputs={c.inputs}")
        self.model = build_mlp(fw, c).to(device)
        load_weights(fw, self.model, init_weights_numpy(self.model, c.seed, std=c.init_std), device)
        if c.manual:  # plain tensors, outside autograd: W1 (hidden, inputs), b1, W2 (10, hidden), b2
            self.w1, self.b1 = self.model.fc1.weight.detach(), self.model.fc1.bias.detach()
            self.w2, self.b2 = self.model.fc2.weight.detach(), self.model.fc2.bias.detach()
        else:
            self.opt = fw.optim.SGD(self.model.parameters(), lr=c.lr)
        self.rng = np.random.default_rng(c.seed)

    def next_batch(self):
        idx = self.rng.choice(len(self.labels), size=self.cfg.batch, replace=False)
        labels = self.labels[idx]
        x = self.fw.from_numpy(self.images[idx]).to(self.device)
        if self.cfg.manual:  # the one-hot targets of the hand-written loss gradient
            onehot = np.zeros((len(idx), CLASSES), dtype=np.float32)
            onehot[np.arange(len(idx)), labels] = 1.0
            return x, self.fw.from_numpy(onehot).to(self.device)
        return x, self.fw.from_numpy(labels).to(self.device)

    def step(self, batch) -> float:
        return self.train_step(*batch).item()

    def train_step(self, x, target):
        """One training step on device tensors, returning the loss tensor: nothing reads the host, so
        it can be captured whole (step.capture=graph, Note [Whole-step capture])."""
        return self._manual_step(x, target) if self.cfg.manual else self._autograd_step(x, target)

    def _autograd_step(self, x, y):
        fw = self.fw
        with phase(fw, "forward"):  # Note [Step ranges]; the manual step has the runner's step range only
            loss = fw.nn.functional.cross_entropy(self.model(x), y)
        self.opt.zero_grad(set_to_none=True)
        with phase(fw, "backward"):
            loss.backward()
        with phase(fw, "optimizer"):
            self.opt.step()
        return loss

    def _manual_step(self, x, onehot):
        fw, lr = self.fw, self.cfg.lr
        n = x.shape[0]
        with fw.no_grad():
            h = x.matmul(self.w1.t()) + self.b1
            a = fw.relu(h)
            logp = fw.log_softmax(a.matmul(self.w2.t()) + self.b2, dim=1)
            loss = -(logp * onehot).sum() / n
            # Mean cross-entropy: d loss / d logits = (softmax - onehot) / n.
            g = (logp.exp() - onehot) / n
            gw2, gb2 = g.t().matmul(a), g.sum(0)
            gh = g.matmul(self.w2).masked_fill(h <= 0, 0.0)
            gw1, gb1 = gh.t().matmul(x), gh.sum(0)
            for p, grad in ((self.w1, gw1), (self.b1, gb1), (self.w2, gw2), (self.b2, gb2)):
                p.sub_(grad * lr)
        return loss
