"""`vibetensor run CONFIG`, `vibetensor compare RESULTS`, `vibetensor policies`."""
import argparse
import json
import os
import sys
import time
import uuid

from vibetensor.experiments import child, compare, config as config_mod, progress, provenance, results


def default_results_path(cfg_path: str) -> str:
    """experiments/results/<config>/<commit>/results.jsonl: a new commit starts a new folder, so
    earlier recorded results are never mixed with or overwritten by a later run."""
    name = os.path.splitext(os.path.basename(cfg_path))[0]
    commit = (provenance.git_state()["git_commit"] or "no-git")[:12]
    return os.path.join("experiments", "results", name, commit, "results.jsonl")


def run_matrix(cfg_path: str, out: str | None, fresh: bool, py_spy: bool = False) -> int:
    cfg = config_mod.load(cfg_path)
    out = out or default_results_path(cfg_path)
    # failed cells are recorded (status "failed") but not done: a resumed run tries them again
    earlier = [] if fresh else results.read(out)
    done = {r["cell"]: r for r in earlier if r.get("status") != "failed"}
    failed = 0
    git = provenance.git_state()
    for r in earlier:
        if r.get("git_commit") != git["git_commit"] or r.get("device") != cfg.device:
            raise SystemExit(f"{out} holds results from commit {r.get('git_commit')} on {r.get('device')}, but this run is "
                             f"commit {git['git_commit']} on {cfg.device}: use --out for a new folder or --fresh to start over "
                             "(finished results are never overwritten in place)")
    invocation = earlier[0]["invocation"] if earlier else uuid.uuid4().hex[:12]
    cells = cfg.cells()
    todo = [c for c in cells if c.key not in done]
    print(f"{cfg_path}: {len(cells)} cells, {len(cells) - len(todo)} already done, results -> {out}", flush=True)
    with progress.Bar(len(todo), "cells") as cells_bar:
        for i, cell in enumerate(todo, 1):
            t0 = time.time()
            label = f"[{i}/{len(todo)}] {cell.workload} {cell.framework} {cell.policy_set.name if cell.policy_set else ''} {cell.device}"
            cells_bar.describe(label)
            policy = cell.policy_set.as_dict() if cell.policy_set else {}
            cmd = child.module_command(
                "vibetensor.experiments.cell", "--workload", cell.workload, "--framework", cell.framework, "--device",
                cell.device, "--steps", str(cfg.steps), "--warmup", str(cfg.warmup), "--policy", json.dumps(policy),
                "--options", json.dumps(cfg.options_for(cell.workload)), "--probe-steps", str(cfg.probe_steps),
                "--gpu-steps", str(cfg.gpu_steps), "--progress")
            if py_spy:  # a sampling profile per cell beside the results: profiles/<cell>.json (speedscope)
                from vibetensor.probes import pyspy
                cmd = pyspy.command(cmd, os.path.join(os.path.dirname(os.path.abspath(out)), "profiles",
                                                      "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in cell.key) + ".json"))
            rc, stdout, stderr = progress.run_with_steps(cmd, cfg.warmup + cfg.steps, label, cfg.cell_timeout_s,
                                                         env=child.child_env())
            if rc != 0 or "@@RESULT@@" not in stdout:
                cells_bar.write(f"{label} FAILED (exit {rc}); marked failed in the results, the matrix goes on")
                sys.stderr.write(stderr[-4000:])
                results.append(out, {"cell": cell.key, "status": "failed", "exit_code": rc, "error": stderr[-4000:],
                                     "workload": cell.workload, "framework": cell.framework, "device": cfg.device,
                                     "policy_set": cell.policy_set.name if cell.policy_set else None,
                                     "repeat": cell.repeat, "invocation": invocation, **git,
                                     "config": os.path.abspath(cfg_path), "finished": provenance.now()})
                failed += 1
                cells_bar.update()
                continue
            # raw_decode: output after the record (py-spy's closing lines) is not part of it
            rec = json.JSONDecoder().raw_decode(stdout.split("@@RESULT@@", 1)[1].lstrip())[0]
            rec.update(cell=cell.key, repeat=cell.repeat, invocation=invocation, config=os.path.abspath(cfg_path),
                       policy_set=cell.policy_set.name if cell.policy_set else None)
            results.append(out, rec)
            done[cell.key] = rec
            cells_bar.write(f"{label}: {rec['median_step_ms']:.2f} ms/step, final loss {rec['losses'][-1]:.4f} "
                            f"({time.time() - t0:.0f} s)")
            cells_bar.update()
    print()
    print(compare.format_table(compare.gap_rows(list(done.values()))))
    if failed:
        print(f"{failed} cell(s) failed; they are marked in {out} and run again when the matrix is resumed")
    return 1 if failed else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="vibetensor", description="vibetensor experiments")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run (or resume) an experiment matrix from a TOML config")
    r.add_argument("config")
    r.add_argument("--out", help="results JSONL (default experiments/results/<config name>/<commit>/results.jsonl)")
    r.add_argument("--fresh", action="store_true", help="ignore finished cells in the results file")
    r.add_argument("--py-spy", action="store_true", help="sample each cell with py-spy --native; profiles/ beside the results")
    c = sub.add_parser("compare", help="print the gap table of results files (the attribution pools their cells)")
    c.add_argument("results", nargs="+")
    c.add_argument("--attribution", action="store_true",
                   help="also attribute the vibe - tuned gap to single policies (one-at-a-time ablation cells)")
    sub.add_parser("policies", help="list every policy with its values, default and description")
    sub.add_parser("figures", add_help=False, help="the paper's figures from recorded results (vibetensor figures -h)")
    sub.add_parser("ablate", add_help=False,
                   help="one-at-a-time ablations inside processes, policies alternating in blocks (vibetensor ablate -h)")
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "ablate":
        from vibetensor.experiments import ablation
        return ablation.main(argv[1:])
    if argv and argv[0] == "figures":
        from vibetensor.paper import figures
        return figures.main(argv[1:])
    a = p.parse_args(argv)
    if a.cmd == "run":
        return run_matrix(a.config, a.out, a.fresh, a.py_spy)
    if a.cmd == "compare":
        recs = [r for path in a.results for r in results.read(path)]
        mixed = compare.provenance_mix(recs)
        if mixed:
            print(mixed)
        print(compare.format_table(compare.gap_rows(recs)))
        for line in compare.failed_cells(recs):
            print(f"FAILED {line}")
        if a.attribution:
            from vibetensor.experiments.attribution import attribute, format_attribution
            print()
            print(format_attribution(attribute(recs)))
        return 0
    import vibetensor as vt
    print(vt.policy.describe().to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
