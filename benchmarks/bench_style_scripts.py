"""Step time of the project's torch-style scripts (tests/scripts: a training script with a cosine schedule,
a CNN on 28x28 images, an LSTM language model, a character trainer with a DataLoader), each run unchanged
with PyTorch and through `python -m vibetensor.run_as_torch` (tuned preset unless --preset), and the
agreement of the numbers they print.

    python benchmarks/bench_style_scripts.py [--rounds 7] [--scripts cnn_style,lstm_lm_style] [--device cuda] [--json PATH]

--device cuda trains on the GPU: the scripts read $VT_STYLE_DEVICE (tests/scripts/_seeded.py), and their step
timer then synchronizes the device before it reads the clock.

Each run is a fresh process; the script's StepTimer (tests/scripts/_seeded.py, on under $VT_STYLE_TIMING)
prints the wall time of every step to stderr, and a run's figure is the median over its steps after the
first (which carries lazy initialization). Runs alternate between the frameworks, the one going first
alternating between rounds, so drift of a shared machine reaches both; each framework's figure is the
median over rounds, and the ratio is vibetensor's over PyTorch's. Process start and imports are outside
every figure.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # its sibling helper, under python -P too
from _cuda_bench_util import device_or_exit  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = {"torch_style_train": ["20"], "cnn_style": [], "lstm_lm_style": [], "char_trainer_style": []}


def run(script, args, framework, preset, device="cpu"):
    path = os.path.join(ROOT, "tests", "scripts", f"{script}.py")
    cmd = [sys.executable] + ([] if framework == "torch" else ["-m", "vibetensor.run_as_torch"]) + [path] + args
    env = dict(os.environ, VT_STYLE_TIMING="1", VT_STYLE_DEVICE=device)
    if framework == "vibetensor" and preset:
        env["VT_POLICY"] = f"preset={preset}"
    # not from the checkout, whose vibetensor/ (no built module) would shadow the installed package
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(), timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{script} on {framework} failed:\n{p.stderr[-2000:]}")
    line = next(l for l in p.stderr.splitlines() if l.startswith("step_ms"))
    steps = [float(v) for v in line.split()[1:]]
    return statistics.median(steps[1:] or steps), _numbers(p.stdout)


def _numbers(stdout):
    """The floats a script prints (its losses and evaluations), in order."""
    out = []
    for line in stdout.splitlines():
        for tok in line.replace(",", " ").split():
            try:
                out.append(float(tok))
            except ValueError:
                pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scripts", default=",".join(SCRIPTS))
    ap.add_argument("--preset", default="tuned", help="vibetensor's policy preset (VT_POLICY=preset=... of its runs)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    where = device_or_exit("bench_style_scripts", a.device)
    import torch

    rows = []
    print(f"{platform.node()}: on {where}, {os.cpu_count()} cores, torch {torch.__version__}, vibetensor preset {a.preset}, "
          f"{a.rounds} rounds")
    for script in a.scripts.split(","):
        samples = {"torch": [], "vibetensor": []}
        numbers = {}
        for r in range(a.rounds):
            order = ("torch", "vibetensor") if r % 2 == 0 else ("vibetensor", "torch")
            for fw in order:
                ms, nums = run(script, SCRIPTS[script], fw, a.preset, a.device)
                samples[fw].append(ms)
                numbers[fw] = nums
        t, v = statistics.median(samples["torch"]), statistics.median(samples["vibetensor"])
        ref, got = numbers["torch"], numbers["vibetensor"]
        worst = max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(got, ref)), default=float("nan"))
        same_count = len(got) == len(ref)
        rows.append({"script": script, "torch_ms": t, "vibetensor_ms": v, "ratio": v / t,
                     "max_rel_diff": worst, "same_count": same_count,
                     "rounds_torch": samples["torch"], "rounds_vibetensor": samples["vibetensor"]})
        print(f"{script:>20}: step ms torch {t:8.3f}  vibetensor {v:8.3f}  ratio {v / t:5.2f}x  "
              f"printed numbers {'agree' if same_count else 'DIFFER IN COUNT'} to {worst:.1e}", flush=True)
    if a.json:
        commit = os.environ.get("VT_GIT_COMMIT") or subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(a.json, "w") as f:
            json.dump({"provenance": {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                                      "cpu_count": os.cpu_count(), "git_commit": commit, "torch": torch.__version__,
                                      "preset": a.preset, "device": where, "argv": sys.argv},
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
