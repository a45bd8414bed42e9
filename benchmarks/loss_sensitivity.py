"""How far a workload's PyTorch loss trajectory moves when its float32 weights move by one ulp: the
bound on loss parity that the trajectory itself allows (the experiments' "loss 1e-4" column).

    python benchmarks/loss_sensitivity.py [--workload minigpt] [--steps 25] [--device cpu]

Trains the workload twice with torch from the same seed and data; the second time every weight
starts one float32 ulp away (torch.nextafter towards +inf), a change below any kernel's rounding.
Prints both loss curves and their relative difference per step.
"""
import argparse

import torch

from vibetensor.experiments.workloads import registry


def losses(name: str, device: str, steps: int, nudge: bool) -> list:
    wl = registry.build(name, torch, device, {})
    if nudge:
        with torch.no_grad():
            for p in wl.model.parameters():
                p.copy_(torch.nextafter(p, torch.full_like(p, float("inf"))))
    return [wl.step(wl.next_batch()) for _ in range(steps)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="minigpt")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    base = losses(a.workload, a.device, a.steps, False)
    moved = losses(a.workload, a.device, a.steps, True)
    print(f"{a.workload} on {a.device}, torch {torch.__version__}: loss, loss with weights one ulp away, relative difference")
    for i, (x, y) in enumerate(zip(base, moved)):
        print(f"{i:4d} {x:10.5f} {y:10.5f} {abs(x - y) / abs(x):9.1e}")


if __name__ == "__main__":
    main()
