"""The probe-cost figure: median step time of a small training step (seq_reverse) under
  (a) a build with the probe call sites compiled out (CMake -DVT_PROBES=OFF),
  (b) the normal build with every probe off,
  (c) counters and lock statistics on,
  (d) NVTX fine ranges and the trace rings on as well,
each ratio against (a) with a spread. Variants alternate round by round, each in a fresh process
(python -m vibetensor.experiments.cell), so drift of the machine hits every variant alike.
Targets: (b) within 1% of (a), (c) within 5%.

    python benchmarks/probe_cost.py --build-noprobes build/noprobes-src   # builds (a) once
    python benchmarks/probe_cost.py --noprobes-root build/noprobes-src --rounds 7 --json cost.json
    python benchmarks/probe_cost.py --device cuda ...                      # on a GPU machine

Without (a) the table gives (c) and (d) against (b).
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


def build_noprobes(dest: str, jobs: int) -> str:
    """A copy of the working tree's sources at `dest` (the tree as it is, which on the GPU machine is
    not what its .git says), built in place with VT_PROBES=OFF."""
    if not os.path.exists(os.path.join(dest, "CMakeLists.txt")):
        os.makedirs(dest, exist_ok=True)
        tree = subprocess.run(["tar", "-c", "-C", REPO, "--exclude=./build", "--exclude=./.git", "--exclude=*.so",
                               "--exclude=./.whl", "--exclude=./.gpu_build", "."], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=tree, check=True)
    build = os.path.join(dest, "build", "noprobes")
    subprocess.run(["cmake", "-S", dest, "-B", build, "-G", "Ninja", "-DVT_DEV_INPLACE=ON", "-DVT_PROBES=OFF",
                    "-DCMAKE_BUILD_TYPE=Release", f"-DPython_EXECUTABLE={sys.executable}"], check=True)
    subprocess.run(["ninja", "-C", build, f"-j{jobs}"], check=True)
    return dest


def run_variant(variant: str, root: str, device: str, steps: int, warmup: int) -> float:
    """Median step time (ms) of one fresh process of `variant`, importing vibetensor from `root`."""
    policy = dict(VARIANTS[variant], preset="tuned")
    cmd = [sys.executable, "-m", "vibetensor.experiments.cell", "--workload", "seq_reverse", "--framework", "vibetensor",
           "--device", device, "--steps", str(steps), "--warmup", str(warmup), "--policy", json.dumps(policy)]
    env = _env_with_root(root)
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
    rec = json.JSONDecoder().raw_decode(proc.stdout.split("@@RESULT@@", 1)[1].lstrip())[0]
    return float(rec["median_step_ms"])


def check_compiled_out(root: str) -> None:
    out = subprocess.run([sys.executable, "-c", "from vibetensor import _C; print(_C._probes_compiled())"], cwd=root,
                         env=_env_with_root(root), capture_output=True, text=True)
    if out.stdout.strip() != "False":
        raise SystemExit(f"{root} does not hold a VT_PROBES=OFF build (_probes_compiled() -> {out.stdout.strip() or out.stderr[-500:]})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds; each runs every variant once")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--noprobes-root", help="source checkout built with -DVT_PROBES=OFF (variant a)")
    p.add_argument("--build-noprobes", metavar="DIR", help="build variant (a) into DIR first (git archive HEAD + cmake)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", help="write the medians, ratios and provenance here")
    a = p.parse_args()
    noprobes = build_noprobes(a.build_noprobes, a.jobs) if a.build_noprobes else a.noprobes_root
    roots = {v: REPO for v in VARIANTS}
    if noprobes:
        noprobes = os.path.abspath(noprobes)
        check_compiled_out(noprobes)
        roots["a_compiled_out"] = noprobes
    else:
        del roots["a_compiled_out"]
    times = {v: [] for v in roots}
    for r in range(a.rounds):
        order = list(roots) if r % 2 == 0 else list(reversed(roots))  # alternate which variant goes first
        for v in order:
            times[v].append(run_variant(v, roots[v], a.device, a.steps, a.warmup))
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{v} {times[v][-1]:.3f}" for v in roots), flush=True)

    base = "a_compiled_out" if noprobes else "b_probes_off"
    rows = []
    for v in roots:
        # per-round ratios against the base of the same round: the spread is their min..max
        ratios = [t / b for t, b in zip(times[v], times[base])]
        med = statistics.median(times[v])
        ratio = statistics.median(ratios)
        limit = TARGETS.get(v) if base == "a_compiled_out" else None
        rows.append({"variant": v, "median_ms": med, "ratio": ratio, "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "target": None if limit is None else 1 + limit,
                     "meets_target": None if limit is None else ratio <= 1 + limit, "times_ms": times[v]})
    print(f"\nprobe cost, seq_reverse on {a.device}, {a.rounds} rounds x {a.steps} steps, ratios against {base}")
    print(f"{'variant':>18} {'median ms':>10} {'ratio':>7} {'spread':>15} {'target':>8}")
    for r in rows:
        tgt = "" if r["target"] is None else f"<={r['target']:.2f} " + ("ok" if r["meets_target"] else "MISS")
        print(f"{r['variant']:>18} {r['median_ms']:>10.3f} {r['ratio']:>7.3f} "
              f"{r['ratio_min']:>7.3f}..{r['ratio_max']:<6.3f} {tgt:>8}")
    if a.json:
        sys.path.insert(0, REPO)
        from vibetensor.experiments import provenance

        rec = {"benchmark": "probe_cost", "device": a.device, "rounds": a.rounds, "steps": a.steps, "warmup": a.warmup,
               "base": base, "noprobes_root": noprobes, "rows": rows, "host": platform.node(),
               "python": sys.version.split()[0], "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               **provenance.git_state()}
        with open(a.json, "w") as f:
            json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()
