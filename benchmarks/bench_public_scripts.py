"""The public scripts of issue 13, run unchanged with PyTorch and through `python -m vibetensor.run_as_torch`:
karpathy/nanoGPT's train.py and karpathy/minGPT's projects/chargpt/chargpt.py, each on a tiny GPT (2 layers,
4 heads, width 128, context 64, batch 16) trained on a synthetic character corpus (_public_script_data.py).

    python benchmarks/bench_public_scripts.py [--nanogpt .thirdparty/nanoGPT] [--mingpt .thirdparty/minGPT]
        [--device cpu|cuda] [--scripts nanogpt,mingpt] [--iters-nanogpt 20] [--iters-mingpt 51] [--rounds 1]
        [--dtype DTYPE] [--mingpt-workers N] [--preset tuned] [--json PATH]

The checkouts are plain copies of the repositories (nothing is downloaded here). Each run is a fresh process
in a fresh folder holding the script's data; the tiny configuration goes in through the scripts' own
command-line overrides. Step times are the scripts' own: nanoGPT's `iter N: ... time Xms` (iterations that
evaluate, and the first, left out), chargpt's `iter_dt`, which it prints every 10 iterations for the
iteration before (so the 500-token sample it draws at iteration 0 is in none). A run's figure is the median
of its steps; over --rounds (the framework going first alternating) the median of the runs. The ratio is
vibetensor's over PyTorch's.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # its sibling helpers, under python -P too
from _cuda_bench_util import device_or_exit, provenance  # noqa: E402
from _public_script_data import synthetic_text, write_mingpt_input, write_nanogpt_dataset  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = {"n_layer": 2, "n_head": 4, "n_embd": 128, "block_size": 64, "batch_size": 16}
EVAL_INTERVAL = 10
CORPUS_CHARS = 200_000
RNG_NOTE = ("the trajectories are not expected to agree number by number: vibetensor's torch.manual_seed seeds its "
            "own Philox generator, not PyTorch's, so the initial weights (torch.nn.init.normal_) and the batches "
            "(nanoGPT's torch.randint, minGPT's RandomSampler) differ; both configurations have dropout 0. What "
            "should hold is that both train: the same start near ln(65) = 4.17 and a similar fall.")


def nanogpt_args(device, iters, dtype):
    """train.py's --key=value overrides: the tiny model, no compile, an eval every EVAL_INTERVAL iterations,
    a learning rate that warms up in 2 iterations so a short run trains."""
    m = MODEL
    args = [f"--device={device}", "--compile=False", f"--max_iters={iters}", f"--eval_interval={EVAL_INTERVAL}",
            "--eval_iters=2", "--log_interval=1", f"--n_layer={m['n_layer']}", f"--n_head={m['n_head']}",
            f"--n_embd={m['n_embd']}", f"--block_size={m['block_size']}", f"--batch_size={m['batch_size']}",
            "--gradient_accumulation_steps=1", "--dataset=synthetic_char", "--always_save_checkpoint=False",
            "--learning_rate=1e-3", "--warmup_iters=2", f"--lr_decay_iters={max(iters, 3)}", "--min_lr=1e-4"]
    return args + ([f"--dtype={dtype}"] if dtype else [])


def mingpt_args(device, iters, workers=None):
    """chargpt.py's --section.key=value overrides: the same tiny model (model_type None: the sizes are given);
    the DataLoader's worker processes are the trainer's own (4) unless `workers` is given."""
    m = MODEL
    return ([f"--trainer.num_workers={workers}"] if workers is not None else []) + [f"--trainer.max_iters={iters}", f"--trainer.batch_size={m['batch_size']}", f"--trainer.device={device}",
            "--model.model_type=None", f"--model.n_layer={m['n_layer']}", f"--model.n_head={m['n_head']}",
            f"--model.n_embd={m['n_embd']}", f"--data.block_size={m['block_size']}"]


NANOGPT_ITER = re.compile(r"^iter (\d+): loss ([-\d.naninf]+), time ([\d.]+)ms", re.M)
MINGPT_ITER = re.compile(r"^iter_dt ([\d.]+)ms; iter (\d+): train loss ([-\d.naninf]+)", re.M)


def parse_nanogpt(stdout, eval_interval=EVAL_INTERVAL):
    """({iteration: loss}, [step ms]): the step times leave out iteration 0 (lazy initialization) and every
    iteration that begins with an evaluation, whose time train.py counts in that iteration's."""
    losses, ms = {}, []
    for it, loss, t in NANOGPT_ITER.findall(stdout):
        losses[int(it)] = float(loss)
        if int(it) % eval_interval != 0:
            ms.append(float(t))
    return losses, ms


def parse_mingpt(stdout):
    """({iteration: loss}, [step ms]): the iter_dt printed at iteration N > 0 is iteration N - 1's time."""
    losses, ms = {}, []
    for dt, it, loss in MINGPT_ITER.findall(stdout):
        losses[int(it)] = float(loss)
        if int(it) > 0:
            ms.append(float(dt))
    return losses, ms


def checkout_problem(name, path):
    """None when `path` holds the script `name` runs; else one line saying what is missing."""
    need = {"nanogpt": ("train.py", "model.py", "configurator.py"),
            "mingpt": ("projects/chargpt/chargpt.py", "mingpt/model.py", "mingpt/trainer.py")}[name]
    missing = [f for f in need if not os.path.isfile(os.path.join(path, f))]
    if not missing:
        return None
    repo = {"nanogpt": "karpathy/nanoGPT", "mingpt": "karpathy/minGPT"}[name]
    return (f"{name}: no {repo} checkout at {path} (missing {', '.join(missing)}); put a copy of "
            f"https://github.com/{repo} there or pass --{name} DIR")


def prepare(name, checkout, folder, a):
    """(script path, its arguments, extra environment) of a run in `folder`, which gets the script's data."""
    text = synthetic_text(CORPUS_CHARS)
    if name == "nanogpt":
        # train.py reads configurator.py and data/ from its working folder and imports model.py beside itself:
        # the three files are copied into the run's folder, which leaves the checkout untouched.
        for f in ("train.py", "model.py", "configurator.py"):
            with open(os.path.join(checkout, f)) as src, open(os.path.join(folder, f), "w") as dst:
                dst.write(src.read())
        write_nanogpt_dataset(folder, "synthetic_char", text)
        dtype = a.dtype or ("float32" if a.device == "cpu" else "")  # on cuda: train.py's own choice (bf16 autocast)
        return os.path.join(folder, "train.py"), nanogpt_args(a.device, a.iters_nanogpt, dtype), {}
    write_mingpt_input(folder, text)
    path = os.pathsep.join(p for p in (os.path.abspath(checkout), os.environ.get("PYTHONPATH", "")) if p)
    return (os.path.join(checkout, "projects", "chargpt", "chargpt.py"), mingpt_args(a.device, a.iters_mingpt, a.mingpt_workers),
            {"PYTHONPATH": path})  # chargpt imports the mingpt package from the checkout's root


def run(name, checkout, framework, a):
    """One fresh run: (return code, {iteration: loss}, [step ms], stderr tail)."""
    with tempfile.TemporaryDirectory(prefix=f"vt_{name}_") as folder:
        script, args, env = prepare(name, checkout, folder, a)
        env = dict(os.environ, **env)
        launcher = [] if framework == "torch" else ["-m", "vibetensor.run_as_torch"]
        if framework == "vibetensor" and a.preset:
            env["VT_POLICY"] = f"preset={a.preset}"
        try:
            p = subprocess.run([sys.executable, *launcher, script, *args], cwd=folder, env=env,
                               capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            return 124, {}, [], f"timed out after {a.timeout} s"
    losses, ms = (parse_nanogpt if name == "nanogpt" else parse_mingpt)(p.stdout)
    return p.returncode, losses, ms, p.stderr[-1500:] if p.returncode else ""


def compare(name, checkout, a):
    """Rounds of both frameworks on one script, and the row that reports them."""
    runs = {"torch": [], "vibetensor": []}
    for r in range(a.rounds):
        for fw in (("torch", "vibetensor") if r % 2 == 0 else ("vibetensor", "torch")):
            runs[fw].append(run(name, checkout, fw, a))
    row = {"script": name, "checkout": checkout}
    for fw, rs in runs.items():
        row[f"rc_{fw}"] = max(r[0] for r in rs)
        row[f"losses_{fw}"] = rs[-1][1]
        row[f"step_ms_runs_{fw}"] = [statistics.median(r[2]) if r[2] else None for r in rs]
        row[f"stderr_{fw}"] = next((r[3] for r in rs if r[3]), "")
        medians = [m for m in row[f"step_ms_runs_{fw}"] if m is not None]
        row[f"step_ms_{fw}"] = statistics.median(medians) if medians else None
    common = sorted(set(row["losses_torch"]) & set(row["losses_vibetensor"]))
    row["max_abs_loss_diff"] = max((abs(row["losses_torch"][i] - row["losses_vibetensor"][i]) for i in common),
                                   default=None)
    t, v = row["step_ms_torch"], row["step_ms_vibetensor"]
    row["ratio"] = v / t if t and v else None
    return row


def report(row):
    title = {"nanogpt": "nanoGPT train.py", "mingpt": "minGPT projects/chargpt/chargpt.py"}[row["script"]]
    print(f"{title}: rc torch {row['rc_torch']}, vibetensor {row['rc_vibetensor']}")
    for fw in ("torch", "vibetensor"):
        losses = row[f"losses_{fw}"]
        shown = " ".join(f"{i}:{losses[i]:.4f}" for i in sorted(losses))
        print(f"  losses {fw:<10} (iter:loss) {shown or '-'}")
        if row[f"stderr_{fw}"]:
            print(f"  {fw} failed; its stderr ends:\n    " + row[f"stderr_{fw}"].strip().replace("\n", "\n    "))
    d = row["max_abs_loss_diff"]
    print(f"  max |loss difference| over the common iterations: {'-' if d is None else f'{d:.4f}'}")
    t, v, ratio = row["step_ms_torch"], row["step_ms_vibetensor"], row["ratio"]
    fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    print(f"  median step ms: torch {fmt(t)}  vibetensor {fmt(v)}  ratio {'-' if ratio is None else f'{ratio:.2f}x'}"
          f"  (runs: torch {[fmt(x) for x in row['step_ms_runs_torch']]}, "
          f"vibetensor {[fmt(x) for x in row['step_ms_runs_vibetensor']]})", flush=True)


def checkout_commit(path):
    """The commit a checkout was copied from: its git HEAD, or the COMMIT file written beside an archive copy."""
    stamp = os.path.join(path, "COMMIT")
    if os.path.isfile(stamp):
        return open(stamp).read().strip()
    p = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nanogpt", default=os.path.join(ROOT, ".thirdparty", "nanoGPT"), help="karpathy/nanoGPT checkout")
    ap.add_argument("--mingpt", default=os.path.join(ROOT, ".thirdparty", "minGPT"), help="karpathy/minGPT checkout")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--scripts", default="nanogpt,mingpt")
    ap.add_argument("--iters-nanogpt", type=int, default=20, help="train.py's max_iters (it runs max_iters + 1)")
    ap.add_argument("--iters-mingpt", type=int, default=51, help="chargpt's max_iters (a time every 10)")
    ap.add_argument("--mingpt-workers", type=int, default=None, help="chargpt's DataLoader workers (default: its 4)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dtype", default="", help="nanoGPT's dtype (default: float32 on cpu, train.py's own on cuda)")
    ap.add_argument("--preset", default="tuned", help="vibetensor's policy preset (VT_POLICY=preset=...)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run")
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    a.scripts = a.scripts.split(",")
    unknown = [s for s in a.scripts if s not in ("nanogpt", "mingpt")]
    if unknown:
        ap.error(f"--scripts: unknown {', '.join(unknown)} (known: nanogpt, mingpt)")
    return a


def main(argv=None):
    a = parse_args(argv)
    problems = {s: checkout_problem(s, getattr(a, s)) for s in a.scripts}
    for line in filter(None, problems.values()):
        print(line)
    todo = [s for s in a.scripts if problems[s] is None]
    if not todo:
        return 2
    where = device_or_exit("bench_public_scripts", a.device)
    import torch

    prov = {**provenance(a.device), "device": where}  # VT_GIT_COMMIT or the checkout's HEAD
    commit = prov["git_commit"]
    print(f"# {prov['time']} vibetensor commit {commit}; {platform.node()} "
          f"({os.cpu_count()} cores) on {where}; torch {torch.__version__}; python {platform.python_version()}; "
          f"vibetensor preset {a.preset}; {a.rounds} round(s)")
    print(f"# command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    for s in todo:
        print(f"# {s} checkout {getattr(a, s)} at commit {checkout_commit(getattr(a, s))}")
    print(f"# model {MODEL}; nanoGPT max_iters {a.iters_nanogpt}, minGPT max_iters {a.iters_mingpt}", flush=True)
    rows = []
    for s in todo:
        rows.append(compare(s, getattr(a, s), a))
        report(rows[-1])
    print(f"note: {RNG_NOTE}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"provenance": prov, "rows": rows}, f, indent=1)
    failed = any(r["rc_torch"] or r["rc_vibetensor"] for r in rows)
    return 1 if failed else (2 if len(todo) < len(a.scripts) else 0)


if __name__ == "__main__":
    sys.exit(main())
