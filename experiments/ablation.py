"""One-at-a-time ablations measured inside a process (Note [In-process ablations]).

    vibetensor ablate seq_reverse minigpt --device cuda --cycles 8 --block-steps 10 --out ablation.jsonl

For every workload: the variants tuned, vibe, vibe-<p> (vibe with p back at its tuned value) and
tuned+<p> (tuned with p at its vibe value) for each policy p that differs between the presets.
Variants that agree on every policy fixed at first use (alloc.cuda, alloc.split, alloc.segments)
share one process; there they take turns in blocks of --block-steps steps, the order rotating every
cycle, and each block's median step time becomes one record. Records carry the usual fields of a
results file (policy_set, policy, median_step_ms, probes, invocation, repeat = cycle), so
`vibetensor compare FILE --attribution` attributes them; a sample there is one cycle of one run.

Note [In-process ablations]
A cell of a config runs in a fresh process, and fresh processes of the same configuration differ
by 5-10% in step time on the H100 machine (code and heap layout, which cores the threads land on).
The attribution sums a dozen differences against one vibe and one tuned cell, so that noise
multiplies: one sample gave explained fractions from -200% to +180%. But most policies may change at
any time (the registry says which are fixed at first use), so their variants can alternate inside
one process: same layout, same threads, same minute of the machine, and a difference of a few
percent stands out after a few cycles. Only the variants that differ in a fixed policy (the
allocator's split and segments) are compared across processes, and their shares carry that noise.
Every block's steps are whole training steps with the loss read back, as in a cell.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from vibetensor.experiments import analysis, child, provenance
from vibetensor.experiments.workloads import registry
from vibetensor.experiments.runner import (_one_step, _per_step, _suite_for, _sync_ledger, probe_steps_record,
                                           workload_options)


def _fixed_policies(fw) -> list:
    return [r["name"] for r in fw._C._policy_describe() if r["fixed_after_first_use"]]


def variants(fw) -> dict:
    """{variant name: full policy dict (non-probe policies)}: tuned, vibe, vibe-<p>, tuned+<p>."""
    presets = fw.policy.presets()
    current = {k: v for k, v in fw.policy.current().items() if not k.startswith("probes.")}
    tuned = {**current, **presets["tuned"]}
    vibe = {**tuned, **presets["vibe"]}
    differing = [p for p in tuned if tuned[p] != vibe[p]]
    out = {"tuned": tuned, "vibe": vibe}
    for p in differing:
        out[f"vibe-{p}"] = {**vibe, p: tuned[p]}
    for p in differing:
        out[f"tuned+{p}"] = {**tuned, p: vibe[p]}
    return out


def plan(all_variants: dict, fixed: list) -> list:
    """Groups of variant names that agree on every policy fixed at first use: one process each,
    the groups of vibe and tuned first."""
    groups = {}
    for name, pol in all_variants.items():
        groups.setdefault(tuple(pol[p] for p in fixed), []).append(name)
    return sorted(groups.values(), key=lambda names: ("vibe" not in names, "tuned" not in names))


def run_group(workload: str, device: str, names: list, cycles: int, block_steps: int, warmup: int,
              probe_steps: int, options: dict | None = None) -> dict:
    """Runs in this process: the variants `names` in rotating blocks. Returns {name: {"block_ms":
    [...], "policy": {...}, "probes": {...}}}."""
    import vibetensor as fw

    all_variants = variants(fw)
    fw.policy.set(all_variants[names[0]])  # fixed policies take their value before first use
    # the vibe preset's suite backend needs the suite's compilers registered, as the runner's cells do;
    # without them every family silently ran natively and kernels.backend/scope/launch cost nothing
    suite_backed = [n for n in names if all_variants[n].get("kernels.backend", "native") != "native"]
    if suite_backed:
        _suite_for(all_variants[suite_backed[0]])
    wl = registry.build(workload, fw, device, workload_options(workload, options, warmup, cycles * block_steps * len(names)))
    augment = wl.augment_batch if getattr(wl, "augments", False) else None
    out = {n: {"block_ms": [], "policy": all_variants[n]} for n in names}
    for n in names:  # each variant's first steps (thread pools, caches, kernel compilation) untimed
        fw.policy.set(all_variants[n])
        for _ in range(warmup):
            _one_step(wl, augment)
    for c in range(cycles):
        k = c % len(names)
        for n in names[k:] + names[:k]:
            fw.policy.set(all_variants[n])
            times = [_one_step(wl, augment)[1] for _ in range(block_steps)]
            out[n]["block_ms"].append(1e3 * statistics.median(times))
    for n in names:  # the probe evidence of each variant, after the timed blocks
        fw.policy.set(all_variants[n])
        before = _sync_ledger(fw, "vibetensor")
        out[n]["probes"] = probe_steps_record(fw, wl, augment, probe_steps) if probe_steps else {"steps": 0}
        after = _sync_ledger(fw, "vibetensor")
        out[n]["syncs_per_step"] = _per_step(after, before, probe_steps) if after is not None and probe_steps else None
    registry.close(wl)
    return out


def _records(workload: str, device: str, group_out: dict, run_id: str, group: int, info: dict) -> list:
    recs = []
    for name, v in group_out.items():
        for cycle, ms in enumerate(v["block_ms"]):
            recs.append({**info, "workload": workload, "framework": "vibetensor", "device": device,
                         "policy_set": name, "policy": v["policy"], "median_step_ms": ms,
                         "invocation": run_id, "repeat": cycle, "process_group": group, "method": "in_process_blocks",
                         "probes": v["probes"], "syncs_per_step": v["syncs_per_step"],
                         "syncs_per_step_total": sum(v["syncs_per_step"].values()) if v["syncs_per_step"] is not None else None})
    return recs


def run(workloads: list, device: str, cycles: int, block_steps: int, warmup: int, probe_steps: int,
        runs: int, out: str, options: dict | None = None, timeout_s: float = 600) -> list:
    """Every workload's groups, each in a fresh process, `runs` times; appends records to `out`."""
    import vibetensor as fw

    groups = plan(variants(fw), _fixed_policies(fw))
    info = {**provenance.git_state(), **provenance.machine_info(device, "vibetensor", fw),
            **provenance.framework_info("vibetensor", fw), "cycles": cycles, "block_steps": block_steps}
    written = []
    for r in range(runs):
        for workload in workloads:
            run_id = f"ablate-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{r}"
            for g, names in enumerate(groups):
                cmd = child.module_command("vibetensor.experiments.ablation", "--worker", "--device", device,
                                           "--cycles", str(cycles), "--block-steps", str(block_steps), "--warmup",
                                           str(warmup), "--probe-steps", str(probe_steps), "--variants", json.dumps(names),
                                           "--options", json.dumps(registry.resolve_options(workload, options)), workload)
                t0 = time.time()
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=child.child_env())
                if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
                    raise SystemExit(f"ablation of {workload} (variants {names}) failed, exit {proc.returncode}:\n"
                                     f"{proc.stderr[-3000:]}")
                group_out = json.loads(proc.stdout.split("@@RESULT@@", 1)[1])
                recs = _records(workload, device, group_out, run_id, g, {**info, "finished": provenance.now()})
                for rec in recs:
                    analysis.append(out, rec)
                written += recs
                summary = ", ".join(f"{n} {statistics.median(v['block_ms']):.2f}" for n, v in group_out.items())
                print(f"[run {r + 1}/{runs}] {workload} group {g + 1}/{len(groups)} ({time.time() - t0:.0f} s): {summary}",
                      flush=True)
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="vibetensor ablate", description=__doc__.splitlines()[0])
    p.add_argument("workloads", nargs="+")
    p.add_argument("--device", default="cpu")
    p.add_argument("--cycles", type=int, default=8, help="blocks per variant in each process")
    p.add_argument("--block-steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per variant before the blocks")
    p.add_argument("--probe-steps", type=int, default=3, help="steps with counters and lock statistics per variant")
    p.add_argument("--runs", type=int, default=1, help="repeat every workload's processes this many times")
    p.add_argument("--out", help="results JSONL to append to (default experiments/results/ablation/<commit>/ablation.jsonl)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--variants", help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    for w in a.workloads:
        registry.get_workload(w)  # a clear error for an unknown name, before any process starts
    if a.worker:
        res = run_group(a.workloads[0], a.device, json.loads(a.variants), a.cycles, a.block_steps, a.warmup,
                        a.probe_steps, json.loads(a.options))
        sys.stdout.write("\n@@RESULT@@" + json.dumps(res) + "\n")
        return 0
    if a.cycles < 2:
        raise SystemExit(f"--cycles must be at least 2 (the attribution's intervals resample cycles), got {a.cycles}")
    out = a.out or os.path.join("experiments", "results", "ablation", provenance.git_state().get("git_commit", "unknown")[:12],
                                "ablation.jsonl")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    recs = run(a.workloads, a.device, a.cycles, a.block_steps, a.warmup, a.probe_steps, a.runs, out)
    print()
    print(analysis.format_attribution(analysis.attribute(recs)))
    print(f"records appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
