"""The probe-cost figure: step time of a small training step (seq_reverse by default, tuned policies) under
  (a) a build with the probe call sites compiled out (CMake -DVT_PROBES=OFF),
  (b) the normal build with every probe off,
  (c) counters and lock statistics on,
  (d) NVTX fine ranges and the trace rings on as well.
(b) against (a) needs two builds, so fresh processes of each alternate round by round; (c) and (d)
against (b) switch probes at run time, so they alternate in blocks inside one process. Every ratio
is the median of paired ratios with a bootstrap 95% interval (Note [Probe cost statistics]).
Targets: (b) within 1% of (a), (c) within 5% of (b).

    python benchmarks/probe_cost.py --build-noprobes build/noprobes-src   # builds (a) once
    python benchmarks/probe_cost.py --noprobes-root build/noprobes-src --json cost.json
    python benchmarks/probe_cost.py --device cuda ...                      # on a GPU machine

Without (a) only the in-process part runs.

Note [Probe cost statistics]
A fresh process's median step time moves by several percent from process to process (code and
heap layout, which core, the clock it found), and a 2-core VM also drifts between states for
minutes. So: (1) each ratio pairs measurements taken next to each other in time, and the median
of the pairs is reported with a bootstrap interval, not one median against another; (2) every
measured process is pinned to one CPU when there are four or more, and runs with one OpenMP
thread; (3) the runtime-switchable probes are compared inside one process, where layout is
shared and only the probes differ.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VARIANTS = {
    "a_compiled_out": {},
    "b_probes_off": {},
    "c_counters_locks": {"probes.counters": "on", "probes.locks": "on"},
    "d_nvtx_trace": {"probes.counters": "on", "probes.locks": "on", "probes.nvtx": "fine", "probes.trace": "on"},
}
TARGETS = {"b_probes_off": 0.01, "c_counters_locks": 0.05}



def _env_with_root(root: str) -> dict:
    """The environment with `root` first on PYTHONPATH (the rest kept: wheels installed with
    --target, as on the GPU machine, must stay importable)."""
    rest = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=root + (os.pathsep + rest if rest else ""))


def build_tree(dest: str, jobs: int, probes: bool = False, cuda: str = "auto") -> str:
    """A copy of the working tree's sources at `dest` (the tree as it is, which on the GPU machine is
    not what its .git says), built in place with VT_PROBES=ON or OFF and the given VT_CUDA."""
    if not os.path.exists(os.path.join(dest, "CMakeLists.txt")):
        os.makedirs(dest, exist_ok=True)
        tree = subprocess.run(["tar", "-c", "-C", REPO, "--exclude=./build", "--exclude=./.git", "--exclude=*.so",
                               "--exclude=./.whl", "--exclude=./.gpu_build", "."], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=tree, check=True)
    build = os.path.join(dest, "build", "probes" if probes else "noprobes")
    subprocess.run(["cmake", "-S", dest, "-B", build, "-G", "Ninja", "-DVT_DEV_INPLACE=ON",
                    f"-DVT_PROBES={'ON' if probes else 'OFF'}", f"-DVT_CUDA={cuda}", "-DCMAKE_BUILD_TYPE=Release",
                    f"-DPython_EXECUTABLE={sys.executable}"], check=True)
    subprocess.run(["ninja", "-C", build, f"-j{jobs}"], check=True)
    return dest


def _pin(cpu):
    """A preexec_fn that pins the child to one CPU: on a many-core machine that removes migrations
    and the other cores' noise from the per-process medians (Note [Probe cost statistics])."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _child_env(root: str, threads: int) -> dict:
    env = _env_with_root(root)
    env["OMP_NUM_THREADS"] = str(threads)  # one team size for every variant; 2-core CPUs were bimodal with 2
    return env


def run_variant(variant: str, root: str, device: str, steps: int, warmup: int, cpu=None, threads: int = 1,
                workload: str = "seq_reverse") -> float:
    """Median step time (ms) of one fresh process of `variant`, importing vibetensor from `root`."""
    policy = dict(VARIANTS[variant], preset="tuned")
    cmd = [sys.executable, "-m", "vibetensor.experiments.cell", "--workload", workload, "--framework", "vibetensor",
           "--device", device, "--steps", str(steps), "--warmup", str(warmup), "--policy", json.dumps(policy),
           "--probe-steps", "0", "--gpu-steps", "0"]
    proc = subprocess.run(cmd, cwd=root, env=_child_env(root, threads), capture_output=True, text=True,
                          preexec_fn=_pin(cpu))
    if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
    rec = json.JSONDecoder().raw_decode(proc.stdout.split("@@RESULT@@", 1)[1].lstrip())[0]
    return float(rec["median_step_ms"])


def in_process_worker(device: str, blocks: int, block_steps: int, warmup: int, workload: str = "seq_reverse") -> dict:
    """One process of the normal build: the runtime-switchable variants (b, c, d) take turns in
    blocks of `block_steps` steps, the order rotating every cycle; returns each block's median
    step time per variant. Probes are policies that may change at any time, so all three run on
    the same heap, the same code layout and the same machine minute (Note [Probe cost statistics])."""
    sys.path.insert(0, REPO)
    import vibetensor as vt
    from vibetensor.experiments.workloads import registry
    from vibetensor.experiments.runner import _one_step

    vt.policy.apply_preset("tuned")
    names = ["b_probes_off", "c_counters_locks", "d_nvtx_trace"]
    off = {k: "off" for k in VARIANTS["d_nvtx_trace"]}
    wl = registry.build(workload, vt, device, {})
    for _ in range(warmup):
        _one_step(wl, None)
    medians = {n: [] for n in names}
    for b in range(blocks):
        order = names[b % 3:] + names[:b % 3]
        for n in order:
            vt.policy.set({**off, **VARIANTS[n]})
            times = [_one_step(wl, None)[1] for _ in range(block_steps)]
            medians[n].append(1e3 * statistics.median(times))
    vt.policy.set(off)
    return medians


def bootstrap_ci(ratios: list, n: int = 2000, seed: int = 0) -> tuple:
    """95% percentile-bootstrap interval of the median of paired ratios."""
    import random

    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]


def summarize(times: dict, base: str, targets: dict) -> list:
    rows = []
    for v, ts in times.items():
        ratios = [t / b for t, b in zip(ts, times[base])]  # paired: same round or block
        lo, hi = bootstrap_ci(ratios)
        limit = targets.get(v)
        ratio = statistics.median(ratios)
        rows.append({"variant": v, "median_ms": statistics.median(ts), "ratio": ratio, "ci95": [lo, hi],
                     "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "target": None if limit is None else 1 + limit,
                     "meets_target": None if limit is None else ratio <= 1 + limit,
                     "target_within_ci": None if limit is None else hi <= 1 + limit, "times_ms": ts})
    return rows


def print_rows(title: str, rows: list) -> None:
    print(f"\n{title}")
    print(f"{'variant':>18} {'median ms':>10} {'ratio':>7} {'95% CI':>15} {'target':>12}")
    for r in rows:
        tgt = "" if r["target"] is None else f"<={r['target']:.2f} " + ("ok" if r["meets_target"] else "MISS")
        print(f"{r['variant']:>18} {r['median_ms']:>10.3f} {r['ratio']:>7.4f} "
              f"{r['ci95'][0]:>7.4f}..{r['ci95'][1]:<6.4f} {tgt:>12}")


def check_compiled_out(root: str) -> None:
    out = subprocess.run([sys.executable, "-c", "from vibetensor import _C; print(_C._probes_compiled())"], cwd=root,
                         env=_env_with_root(root), capture_output=True, text=True)
    if out.stdout.strip() != "False":
        raise SystemExit(f"{root} does not hold a VT_PROBES=OFF build (_probes_compiled() -> {out.stdout.strip() or out.stderr[-500:]})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=15, help="cross-build rounds; each runs (a) and (b) once, in alternating order")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--blocks", type=int, default=15, help="in-process cycles of (b), (c), (d); 0 skips that part")
    p.add_argument("--block-steps", type=int, default=20)
    p.add_argument("--cpu", type=int, help="pin every measured process to this CPU (default: the last CPU when there are >= 4)")
    p.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of the measured processes")
    p.add_argument("--noprobes-root", help="source checkout built with -DVT_PROBES=OFF (variant a)")
    p.add_argument("--build-noprobes", metavar="DIR", help="build variant (a) into DIR first (copy of the tree + cmake)")
    p.add_argument("--probes-root", help="source checkout with probes compiled in for (b) (default: this checkout)")
    p.add_argument("--build-probes", metavar="DIR", help="build (b) into DIR first, with the same --cuda as (a)")
    p.add_argument("--cuda", default="auto", choices=["auto", "on", "off"], help="VT_CUDA of the builds made here")
    p.add_argument("--workload", default="seq_reverse", help="the training step measured (a workload name)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", help="write the medians, ratios and provenance here")
    p.add_argument("--in-process-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.in_process_worker:
        print("@@RESULT@@" + json.dumps(in_process_worker(a.device, a.blocks, a.block_steps, a.warmup, a.workload)))
        return
    cpus = sorted(os.sched_getaffinity(0))
    cpu = a.cpu if a.cpu is not None else (cpus[-1] if len(cpus) >= 4 else None)
    noprobes = build_tree(a.build_noprobes, a.jobs, False, a.cuda) if a.build_noprobes else a.noprobes_root
    probes_root = os.path.abspath(build_tree(a.build_probes, a.jobs, True, a.cuda) if a.build_probes else
                                  (a.probes_root or REPO))
    rec = {"benchmark": "probe_cost", "device": a.device, "workload": a.workload, "preset": "tuned", "cpu": cpu,
           "threads": a.threads, "rounds": a.rounds, "steps": a.steps, "warmup": a.warmup, "blocks": a.blocks,
           "block_steps": a.block_steps, "noprobes_root": noprobes}

    if noprobes and a.rounds > 0:
        noprobes = os.path.abspath(noprobes)
        check_compiled_out(noprobes)
        roots = {"a_compiled_out": noprobes, "b_probes_off": probes_root}
        times = {v: [] for v in roots}
        for r in range(a.rounds):
            order = list(roots) if r % 2 == 0 else list(reversed(roots))  # alternate which goes first
            for v in order:
                times[v].append(run_variant(v, roots[v], a.device, a.steps, a.warmup, cpu, a.threads, a.workload))
            print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{v} {times[v][-1]:.3f}" for v in roots), flush=True)
        rec["cross_build"] = summarize(times, "a_compiled_out", {"b_probes_off": TARGETS["b_probes_off"]})
        print_rows(f"(b) against a build without probes: {a.workload} on {a.device}, {a.rounds} rounds of fresh "
                   f"processes x {a.steps} steps, paired ratios", rec["cross_build"])

    if a.blocks > 0:
        cmd = [sys.executable, os.path.abspath(__file__), "--in-process-worker", "--device", a.device,
               "--blocks", str(a.blocks), "--block-steps", str(a.block_steps), "--warmup", str(a.warmup),
               "--workload", a.workload]
        proc = subprocess.run(cmd, cwd=REPO, env=_child_env(REPO, a.threads), capture_output=True, text=True,
                              preexec_fn=_pin(cpu))
        if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
            raise SystemExit(f"in-process run failed:\n{proc.stderr[-3000:]}")
        medians = json.loads(proc.stdout.split("@@RESULT@@", 1)[1])
        rec["in_process"] = summarize(medians, "b_probes_off", {"c_counters_locks": TARGETS["c_counters_locks"]})
        print_rows(f"probes switched on at run time against probes off, one process: {a.blocks} cycles x "
                   f"{a.block_steps} steps per variant, paired ratios", rec["in_process"])

    if a.json:
        sys.path.insert(0, REPO)
        from vibetensor.experiments import provenance

        rec.update({"host": platform.node(), "python": sys.version.split()[0],
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **provenance.git_state()})
        with open(a.json, "w") as f:
            json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()
