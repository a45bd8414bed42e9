"""Whole training steps captured into CUDA graphs (issue 12), vibetensor against PyTorch's peers, in one
process on one GPU:

    python benchmarks/bench_step_capture.py [--workloads seq_reverse,minigpt,mnist_mlp] [--rounds 5]
        [--steps 20] [--no-compile] [--json PATH] [--set POLICY=VALUE] [--option KEY=VALUE]

--option sets a workload option for every variant of the workloads that have it (TOML values: --option
fused_rope=true makes vibetensor's GPT call its one-op RoPE; torch, which has none, composes it as before).

Variants per workload: torch eager; torch with the whole step captured in torch.cuda.graph (static
inputs, AdamW(capturable=True), PyTorch's whole-network capture recipe); torch.compile(model,
mode="reduce-overhead") (reported as failed where it does not compile); vibetensor tuned (kernel suite
on: kernels.backend=triton) eager; vibetensor tuned with vt.cuda.graphed_step (Note [Whole-step
capture]); vibetensor's vibe preset, in a cell process of its own (benchmarks/_cell_variant.py; --no-vibe
leaves it out). Each variant is built once and warmed up (compile and capture outside the timing); the
timed steps run in interleaved rounds (`steps` steps per variant per round, each reading its loss back
as the workloads do) and each variant reports the median over rounds of its ms per step and that over
torch eager's. After timing, a few steps per variant under vibetensor's CUPTI collector give the GPU
kernel time per step (busy ms): a captured step near it has no host time left. The graphed variants also
report replay_ms, their captured step replayed alone back to back (no batch copy, no loss read), the
replayed step time to set against that kernel time. The eager variants (torch eager, vt tuned) report
host_ms_per_step, the time to issue one train_step with the GPU idle at its start, and host_us_per_kernel,
that over the step's kernels: the per-op host cost of each eager path.
"""
import argparse
import statistics
import sys
import time
import tomllib

from _cell_variant import CellVariant
from _cuda_bench_util import require_gpu_or_exit, write_json

vt = require_gpu_or_exit("bench_step_capture")
import torch  # noqa: E402
import vibetensor.kernels  # noqa: E402,F401  (registers the Triton compiler)
from vibetensor.experiments.workloads import registry  # noqa: E402

WARMUP = 3


class TorchGraphed:
    """PyTorch's whole-network capture: at the first call, warm-up on a side stream and capture on static
    copies of that call's inputs; every call copies its inputs into them and replays."""

    def __init__(self, fn):
        self.fn, self.graph = fn, None

    def _capture(self, args):
        self.static = [a.clone() for a in args]
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(WARMUP):
                self.fn(*self.static)
        torch.cuda.current_stream().wait_stream(s)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self.fn(*self.static)

    def __call__(self, *args):
        if self.graph is None:
            self._capture(args)
        for s, a in zip(self.static, args):
            s.copy_(a)
        self.graph.replay()
        return self.out


def build_variants(name, compile_torch, options):
    """{variant: (step callable taking nothing and returning the loss as a float, workload)}. The graphed
    variants replace the workload's train_step (device tensors in, loss tensor out) and keep its step, as
    the runner does under step.capture=graph: each step still turns its host batch into device tensors
    (vit_cifar's batches are numpy arrays), runs what follows train_step, and reads the loss back."""
    out = {}
    wl = registry.build(name, torch, "cuda", dict(options))
    out["torch eager"] = (lambda wl=wl: wl.step(wl.next_batch()), wl)
    wl = registry.build(name, torch, "cuda", {**options, **_capturable(name)})
    wl.train_step = TorchGraphed(wl.train_step)
    out["torch graph"] = (lambda wl=wl: wl.step(wl.next_batch()), wl)
    if compile_torch:
        wl = registry.build(name, torch, "cuda", dict(options))
        wl.model = torch.compile(wl.model, mode="reduce-overhead")
        out["torch.compile"] = (lambda wl=wl: wl.step(wl.next_batch()), wl)
    wl = registry.build(name, vt, "cuda", dict(options))
    out["vt tuned"] = (lambda wl=wl: wl.step(wl.next_batch()), wl)
    wl = registry.build(name, vt, "cuda", {**options, **_capturable(name)})
    wl.train_step = vt.cuda.graphed_step(wl.train_step, warmup=WARMUP)
    out["vt tuned+graph"] = (lambda wl=wl: wl.step(wl.next_batch()), wl)
    return out


def _capturable(name):
    cfg = registry.make_config(name, {})
    return {"capturable": True} if hasattr(cfg, "capturable") else {}


def replay_ms(variant, wl, replays=20):
    """ms per replay of a graphed variant's captured step alone, replays back to back (no batch copy, no
    loss read): the issue's "replayed step time", set against the step's GPU kernel time. None when the
    variant has no graph."""
    g = wl.train_step
    if variant == "torch graph":
        replay, sync = g.graph.replay, torch.cuda.synchronize
    elif variant == "vt tuned+graph":
        replay, sync = g.replay, vt.cuda.synchronize
    else:
        return None
    sync()
    t0 = time.perf_counter()
    for _ in range(replays):
        replay()
    sync()
    return 1e3 * (time.perf_counter() - t0) / replays


class HostTimed:
    """A workload's train_step timed from call to return, with the GPU idle at the call: the host time to
    issue one eager step's work (nothing inside train_step waits on the GPU: the workloads read the loss
    after it), which over the step's kernel count is the host cost per kernel launched."""

    def __init__(self, fn, sync):
        self.fn, self.sync, self.seconds = fn, sync, []

    def __call__(self, *args):
        self.sync()
        t0 = time.perf_counter()
        out = self.fn(*args)
        self.seconds.append(time.perf_counter() - t0)
        return out


def host_ms(variant, step, wl, steps=5):
    """Median ms of host time to issue an eager variant's train_step (HostTimed); None for the others."""
    if variant not in ("torch eager", "vt tuned"):
        return None
    timed = HostTimed(wl.train_step, torch.cuda.synchronize if variant.startswith("torch") else vt.cuda.synchronize)
    wl.train_step = timed
    try:
        for _ in range(steps):
            step()
    finally:
        wl.train_step = timed.fn
    return 1e3 * statistics.median(timed.seconds)


def busy_ms(step, steps=5):
    from vibetensor.probes.cupti import KernelActivity

    try:
        with KernelActivity() as act:
            for _ in range(steps):
                step()
    except (RuntimeError, ImportError) as e:
        return None, str(e)
    return act.busy_ns / steps / 1e6, act.kernel_count / steps


def parse_options(items):
    """["fused_rope=true", ...] -> {"fused_rope": True, ...} (values read as TOML)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--option expects KEY=VALUE, got {item!r}")
        out[key] = tomllib.loads(f"v = {value}")["v"]
    return out


def scope_options(names, options):
    """{workload: the options its Config has}. An option goes to the workloads that define it (fused_rope:
    the GPT ones), each left-out pairing printed; an option that no named workload has is an error."""
    import dataclasses

    fields = {n: {f.name for f in dataclasses.fields(registry.make_config(n, {}))} for n in names}
    for key in options:
        if not any(key in f for f in fields.values()):
            raise SystemExit(f"--option {key}: not an option of any of {names}")
        for n in names:
            if key not in fields[n]:
                print(f"--option {key}: not an option of {n}, which runs without it")
    return {n: {k: v for k, v in options.items() if k in fields[n]} for n in names}


def run(name, rounds, steps, compile_torch, options, vibe=True):
    variants, failed = {}, {}
    for v, (step, wl) in build_variants(name, compile_torch, options).items():
        try:
            t0 = time.perf_counter()
            for _ in range(WARMUP + (5 if v == "torch.compile" else 0)):
                step()
            variants[v] = (step, time.perf_counter() - t0, wl)
        except Exception as e:  # noqa: BLE001  (torch.compile may not compile on this machine)
            failed[v] = f"{type(e).__name__}: {str(e)[:200]}"
    # vibe's policies are fixed for a process's life: its cell runs in a process of its own, asked for one
    # block of `steps` steps a round (their median step time; the variants here time a block's mean)
    cell = None
    if vibe:
        try:
            cell = CellVariant(name, "vibe", "cuda", options, rounds * steps, warmup=WARMUP)
        except RuntimeError as e:
            failed["vt vibe"] = str(e)[-400:]
    samples = {v: [] for v in [*variants, *(["vt vibe"] if cell else [])]}
    for _ in range(rounds):
        for v, (step, *_) in variants.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            samples[v].append(1e3 * (time.perf_counter() - t0) / steps)
        if cell:
            samples["vt vibe"].append(cell.block(steps))
    base = statistics.median(samples["torch eager"])
    rows = []
    for v, (step, warm_s, wl) in variants.items():
        ms = statistics.median(samples[v])
        busy, kernels = busy_ms(step)
        host = host_ms(v, step, wl)
        rows.append({"workload": name, "variant": v, "ms_per_step": ms, "vs_torch_eager": ms / base,
                     "replay_ms": replay_ms(v, wl), "host_ms_per_step": host,
                     "host_us_per_kernel": 1e3 * host / kernels if host is not None and isinstance(busy, float) and kernels
                     else None,
                     "gpu_busy_ms_per_step": busy if isinstance(busy, float) else None,
                     "kernels_per_step": kernels if isinstance(busy, float) else None,
                     "busy_error": None if isinstance(busy, float) else kernels, "warmup_s": warm_s})
    if cell:
        act, ms = cell.finish(), statistics.median(samples["vt vibe"])
        busy = act.get("busy_ms_per_step")
        rows.append({"workload": name, "variant": "vt vibe", "ms_per_step": ms, "vs_torch_eager": ms / base,
                     "gpu_busy_ms_per_step": busy, "kernels_per_step": act.get("kernels_per_step"),
                     "busy_error": None if busy is not None else act.get("reason"), "warmup_s": cell.warmup_s})
    rows += [{"workload": name, "variant": v, "error": why} for v, why in failed.items()]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="seq_reverse,minigpt,mnist_mlp")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true", help="leave torch.compile out")
    ap.add_argument("--no-vibe", action="store_true", help="leave out the vibe preset's cell (a process of its own)")
    ap.add_argument("--json", default="")
    ap.add_argument("--set", action="append", default=[], metavar="POLICY=VALUE",
                    help="a vibetensor policy over tuned + kernels.backend=triton (repeatable)")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="a workload option for every variant (repeatable), e.g. fused_rope=true")
    a = ap.parse_args()
    spec = ",".join(["preset=tuned", "kernels.backend=triton", *a.set])
    vt.policy.apply_spec(spec)
    options = parse_options(a.option)
    print(f"{vt.cuda.get_device_name(0)}; torch {torch.__version__}; vibetensor policies {spec}; "
          f"workload options {options}")
    names = a.workloads.split(",")
    scoped = scope_options(names, options)
    rows = []
    for name in names:
        try:
            rows += run(name, a.rounds, a.steps, not a.no_compile, scoped[name], vibe=not a.no_vibe)
        except Exception as e:  # noqa: BLE001  (one broken workload must not hide the others)
            print(f"{name}: FAILED {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"workload": name, "variant": "all", "error": str(e)})
            continue
        for r in rows:
            if r.get("workload") == name and "ms_per_step" in r:
                busy = f"{r['gpu_busy_ms_per_step']:.3f} ms GPU ({r['kernels_per_step']:.0f} kernels)" \
                    if r["gpu_busy_ms_per_step"] is not None else f"GPU n/a ({r['busy_error']})"
                if r.get("replay_ms") is not None:
                    busy += f"; replay alone {r['replay_ms']:.3f} ms"
                if r.get("host_ms_per_step") is not None:
                    per = f", {r['host_us_per_kernel']:.1f} us per kernel" if r.get("host_us_per_kernel") else ""
                    busy += f"; host {r['host_ms_per_step']:.3f} ms per step{per}"
                print(f"{name:>12} {r['variant']:>15}: {r['ms_per_step']:8.3f} ms/step  {r['vs_torch_eager']:.2f}x "
                      f"torch eager; {busy}", flush=True)
            elif r.get("workload") == name and "error" in r:
                print(f"{name:>12} {r.get('variant', ''):>15}: FAILED {r['error']}", flush=True)
    write_json(a.json, rows)


if __name__ == "__main__":
    main()
