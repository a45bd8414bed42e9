"""`vibetensor run CONFIG`, `vibetensor compare RESULTS`, `vibetensor policies`, `vibetensor ablate` (the `vibetensor`
console script; the paper's figures are a layer up, `vibetensor-figures`)."""
import argparse
import json
import os
import shutil
import sys
import textwrap
import time
import uuid

from vibetensor.experiments import (analysis, child, config as config_mod, data_parallel, executors, gap_chart,
                                    progress, provenance, rounds)


def default_results_path(cfg_path: str) -> str:
    """experiments/results/<config>/<commit>/results.jsonl: a new commit starts a new folder, so
    earlier recorded results are never mixed with or overwritten by a later run."""
    name = os.path.splitext(os.path.basename(cfg_path))[0]
    commit = (provenance.git_state()["git_commit"] or "no-git")[:12]
    return os.path.join("experiments", "results", name, commit, "results.jsonl")


def missing_dependencies(cfg) -> tuple:
    """(needed, optional): [(package, what for)] of what the run imports and this Python lacks."""
    import importlib.util

    needed = []
    if "torch" in cfg.frameworks and importlib.util.find_spec("torch") is None:
        needed.append(("torch", "the PyTorch cells (pip install 'torch==2.13.0', the CPU build)"))
    if "vibetensor" in cfg.frameworks and cfg.probe_steps > 0 and importlib.util.find_spec("pandas") is None:
        needed.append(("pandas", "the probe columns of the vibetensor cells (pip install pandas)"))
    optional = []
    if importlib.util.find_spec("matplotlib") is None:
        optional.append(("matplotlib", "the bar chart of the ratios (pip install matplotlib)"))
    return needed, optional


def _group_done(cells: list, earlier: list) -> list | None:
    """The records of the latest complete run of this group in `earlier`, or None: a group counts
    only when all its cells finished in one run, so a resumed matrix never pairs cells measured in
    different invocations (Note [Interleaved rounds])."""
    keys = {c.key for c in cells}
    by_group = {}
    for r in earlier:
        if r.get("status") != "failed" and r.get("cell") in keys and r.get("group_id"):
            by_group.setdefault(r["group_id"], {})[r["cell"]] = r
    complete = [recs for recs in by_group.values() if set(recs) == keys]
    return list(complete[-1].values()) if complete else None


def _cell_command(cfg, cell, out: str, py_spy: bool) -> list:
    policy = cell.policy_set.as_dict() if cell.policy_set else {}
    args = ["--workload", cell.workload, "--framework", cell.framework, "--device", cell.device, "--steps",
            str(cfg.steps), "--warmup", str(cfg.warmup), "--threads", str(cfg.threads), "--policy", json.dumps(policy),
            "--options", json.dumps(cfg.options_for(cell.workload)), "--probe-steps", str(cfg.probe_steps),
            "--gpu-steps", str(cfg.gpu_steps), "--progress"]
    if cell.data_parallel:  # Note [Data-parallel cells]
        cmd = data_parallel.launch_command(cell.framework, cell.data_parallel, args)
    else:
        cmd = child.module_command("vibetensor.experiments.cell", *args)
    if py_spy:  # a sampling profile per cell beside the results: profiles/<cell>.json (speedscope)
        from vibetensor.probes import pyspy
        # idle: a step's waits (a lock, the GIL, the engine's workers, a sync) are host time of the step too
        cmd = pyspy.command(cmd, os.path.join(os.path.dirname(os.path.abspath(out)), "profiles",
                                              "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in cell.key) + ".json"),
                            idle=True)
    return cmd


def _cell_label(cell) -> str:
    return cell.framework if cell.policy_set is None else cell.policy_set.name


def run_matrix(cfg_path: str, out: str | None, fresh: bool, py_spy: bool = False, executor: str = "local",
               ray_address: str | None = None) -> int:
    cfg = config_mod.load(cfg_path)
    needed, optional = missing_dependencies(cfg)
    for pkg, why in needed + optional:
        print(f"{'missing' if (pkg, why) in needed else 'not installed'}: {pkg}, for {why}", file=sys.stderr)
    if needed:
        print("no cell was run: install the missing packages (bash scripts/run_main.sh installs everything)",
              file=sys.stderr)
        return 2
    out = out or default_results_path(cfg_path)
    earlier = [] if fresh else analysis.read(out)
    git = provenance.git_state()
    for r in earlier:
        if r.get("git_commit") != git["git_commit"] or r.get("device") != cfg.device:
            raise SystemExit(f"{out} holds results from commit {r.get('git_commit')} on {r.get('device')}, but this run is "
                             f"commit {git['git_commit']} on {cfg.device}: use --out for a new folder or --fresh to start over "
                             "(finished results are never overwritten in place)")
    invocation = uuid.uuid4().hex[:12]
    groups = cfg.groups()
    done, todo = [], []
    for workload, rep, cells in groups:
        recs = _group_done(cells, earlier)
        if recs:
            done += recs
        else:
            todo.append((workload, rep, cells))
    n_cells = sum(len(c) for _, _, c in groups)
    print(f"{cfg_path}: {len(groups)} groups ({n_cells} cells), {len(groups) - len(todo)} already done, "
          f"{cfg.rounds} interleaved rounds per group, results -> {out}"
          + ("" if executor == "local" else f", groups placed by {executor}"), flush=True)
    env = child.child_env()
    if git["git_commit"]:  # the commit each record carries is the one the results file is checked against
        env.update(VT_GIT_COMMIT=git["git_commit"], VT_GIT_DIRTY="1" if git["git_dirty"] else "0")
    if cfg.threads:
        env["OMP_NUM_THREADS"] = str(cfg.threads)
    failed = 0
    total_steps = sum(len(cells) * (cfg.warmup + cfg.steps) for _, _, cells in todo)
    heads = {id(job): f"[{i}/{len(todo)}] {job[0]}" + (f" repeat {job[1]}" if cfg.repeats > 1 else "")
             for i, job in enumerate(todo, 1)}
    with progress.Bar(total_steps, "steps") as bar:
        def run_here(job):  # Note [Executors]: local, with per-step progress
            head, cells = heads[id(job)], job[2]
            bar.describe(head)
            labels = {c.key: _cell_label(c) for c in cells}

            def on_round(r, rounds, medians):
                ms = ", ".join(f"{labels[k]} {v:.2f}" for k, v in medians.items())
                bar.write(f"{head} round {r + 1}/{rounds} (ms/step): {ms}")

            commands = {c.key: _cell_command(cfg, c, out, py_spy) for c in job[2]}
            return rounds.run_group(commands, cfg.steps, cfg.rounds, cfg.cell_timeout_s, env, bar.update, on_round)

        def group_args(job):
            return ({c.key: _cell_command(cfg, c, out, py_spy) for c in job[2]}, cfg.steps, cfg.rounds,
                    cfg.cell_timeout_s, env)

        if executor == "ray":
            finished = executors.run_ray(
                todo, group_args, gpus_per_group=1 if cfg.device == "cuda" else 0, cpus_per_group=cfg.threads or 1,
                address=ray_address, on_start=lambda res, n: bar.write(f"ray: {n} group task(s) on a cluster of "
                                                                      f"{res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs"))
        else:
            finished = executors.run_local(todo, run_here)
        t0 = time.time()
        for job, (recs, errors) in finished:
            workload, rep, cells = job
            head = heads[id(job)]
            labels = {c.key: _cell_label(c) for c in cells}
            if executor != "local":
                bar.update(sum(cfg.warmup + cfg.steps for _ in cells))
            for cell in cells:
                common = {"cell": cell.key, "repeat": cell.repeat, "invocation": invocation, "executor": executor,
                          "config": os.path.abspath(cfg_path), "policy_set": cell.policy_set.name if cell.policy_set else None}
                if cell.key in recs:
                    rec = {**recs[cell.key], **common}
                    analysis.append(out, rec)
                    done.append(rec)
                    bar.write(f"{head} {labels[cell.key]}: {rec['median_step_ms']:.2f} ms/step, "
                              f"final loss {rec['losses'][-1]:.4f}")
                else:
                    failed += 1
                    bar.write(f"{head} {labels[cell.key]} FAILED; marked failed in the results, the matrix goes on")
                    sys.stderr.write(errors[cell.key][-4000:] + "\n")
                    analysis.append(out, {**common, "status": "failed", "error": errors[cell.key][-4000:],
                                         "workload": cell.workload, "framework": cell.framework, "device": cfg.device,
                                         **git, "method": "interleaved_rounds", "finished": provenance.now()})
            bar.write(f"{head}: {time.time() - t0:.0f} s")
            t0 = time.time()
    rows = analysis.gap_rows(done)
    print()
    print(analysis.format_table(rows))
    chart = os.path.join(os.path.dirname(os.path.abspath(out)), "gap.png")
    if optional:
        chart = None
    elif gap_chart.write(rows, chart, title=f"{os.path.basename(cfg_path)} on {cfg.device}, commit {(git['git_commit'] or 'no-git')[:12]}"):
        print(f"bar chart of the ratios: {chart}")
    print(f"results: {out}")
    if failed:
        print(f"{failed} cell(s) failed; they are marked in {out} and their groups run again when the matrix is resumed")
    return 1 if failed else 0


def policy_records() -> list:
    """describe()'s rows as dicts, values as a list, each with its vibe value (None where the vibe
    preset leaves the policy alone)."""
    import vibetensor as vt

    vibe = vt.policy.presets()["vibe"]
    return [{**row, "values": row["values"].split(", "), "vibe": vibe.get(row["name"])}
            for row in vt.policy.describe().to_dict("records")]


def format_policies(records: list, width: int = 100) -> str:
    """One block per policy, wrapped to `width` columns: describe()'s table has a column per field
    and runs to about 400 columns, which no terminal shows."""
    blocks = []
    for r in records:
        changed = "" if r["value"] == r["default"] else f"  (default {r['default']})"
        marks = {r["default"]: "default", r["vibe"]: "vibe"} if r["vibe"] != r["default"] else {r["default"]: "default, vibe"}
        values = ", ".join(f"{v} ({marks[v]})" if v in marks else v for v in r["values"])
        when = "fixed after first use" if r["fixed_after_first_use"] else "changes at any time"
        lines = [f"{r['name']} = {r['value']}{changed}"]
        for label, text in (("values", f"{values}; {when}"), ("what", r["description"]), ("mirrors", r["mirrors"]),
                            ("where", r["where"])):
            if text:  # a field per line, its text wrapped under itself
                lines += textwrap.wrap(text, width, initial_indent=f"  {label + ':':<9}", subsequent_indent=" " * 11,
                                       break_long_words=False, break_on_hyphens=False)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="vibetensor", description="vibetensor experiments",
                                epilog="The paper's figures from recorded results: vibetensor-figures (paper/figures.py).")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run (or resume) an experiment matrix from a TOML config")
    r.add_argument("config")
    r.add_argument("--out", help="results JSONL (default experiments/results/<config name>/<commit>/results.jsonl)")
    r.add_argument("--fresh", action="store_true", help="ignore finished cells in the results file")
    r.add_argument("--py-spy", action="store_true", help="sample each cell with py-spy --native --idle; profiles/ beside the results")
    r.add_argument("--executor", choices=executors.EXECUTORS, default="local",
                   help="where the groups run: here in turn (local), or as Ray tasks on a cluster (ray; Note [Executors])")
    r.add_argument("--ray-address", help="a running Ray cluster to join (default RAY_ADDRESS, else a local one)")
    c = sub.add_parser("compare", help="print the gap table of results files (the attribution pools their cells)")
    c.add_argument("results", nargs="+")
    c.add_argument("--attribution", action="store_true",
                   help="also attribute the vibe - tuned gap to single policies (one-at-a-time ablation cells)")
    pol = sub.add_parser("policies", help="list every policy: value, default, vibe value, description, where it lives")
    pol.add_argument("--json", action="store_true", help="one JSON list of every field instead of the text blocks")
    sub.add_parser("ablate", add_help=False,
                   help="one-at-a-time ablations inside processes, policies alternating in blocks (vibetensor ablate -h)")
    sub.add_parser("train", add_help=False,
                   help="train a workload with checkpoints; run again, it resumes where it stopped (vibetensor train -h)")
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "ablate":
        from vibetensor.experiments import ablation
        return ablation.main(argv[1:])
    if argv and argv[0] == "train":
        from vibetensor.experiments import checkpoint
        return checkpoint.main(argv[1:])
    a = p.parse_args(argv)
    if a.cmd == "run":
        return run_matrix(a.config, a.out, a.fresh, a.py_spy, a.executor, a.ray_address)
    if a.cmd == "compare":
        recs = [r for path in a.results for r in analysis.read(path)]
        mixed = analysis.provenance_mix(recs)
        if mixed:
            print(mixed)
        print(analysis.format_table(analysis.gap_rows(recs)))
        for line in analysis.failed_cells(recs):
            print(f"FAILED {line}")
        if a.attribution:
            print()
            print(analysis.format_attribution(analysis.attribute(recs)))
        return 0
    if a.json:
        print(json.dumps(policy_records(), indent=1))
    else:  # at most 100 columns, fewer in a narrower terminal
        print(format_policies(policy_records(), width=max(60, min(100, shutil.get_terminal_size((100, 24)).columns))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
