"""The paper's figures from recorded results, in one command:

    vibetensor-figures                                 # experiments/results -> paper/figures
    vibetensor-figures --results DIR --out DIR --only gap attribution
    python -m vibetensor.paper.figures ...             # the same without the console script

Each figure reads the results files its SOURCES entry names (globs under --results), writes
<name>.png and <name>.csv (the numbers plotted) to --out, and README.md there lists every figure
with the files and commits it came from. A figure whose results are missing is reported and
skipped; the command then exits 1, so a partial regeneration never passes for a full one.
Needs matplotlib (the `paper` extra).
"""
import argparse
import csv
import glob
import json
import os
import sys

from vibetensor.experiments import analysis

# figure -> results globs under --results (every match is read; see each figure for how).
SOURCES = {
    "gap": ["h100/*/h100.jsonl"],
    # VibeTensor's own ratios: as its paper reports them, and real VibeTensor measured on an H100
    "reference_paper": ["vibetensor_reference/paper_*.json"],
    "reference_h100": ["vibetensor_reference/h100_*.json"],
    "attribution": ["ablation_h100/*/ablation.jsonl"],  # vibetensor ablate's blocks, not the fresh-process runs beside them
    # vibetensor ablate with the vibe preset's kernel suite registered (session 33 on): the latest file
    "attribution_suite": ["ablation_h100_suite/*/ablation.jsonl"],
    "contention": ["gpu/*/contention_cpu.json"],
    "probe_cost": ["gpu/*/probe_cost.json", "probe_cost_cpu/*/cross_build_*.json"],
    "chain_backward": ["chain_backward_cpu/*.json"],
    # benchmarks/bench_kernel_suite.py --json runs that measured the CuTe DSL backend beside the others
    "kernel_backends": ["gpu/*/ks_*.json"],
    # benchmarks/bench_step_capture.py --json: a captured step against PyTorch's eager, graph and compile
    "capture": ["gpu/*/capture.json", "gpu/*/*/capture.json"],
}


class MissingResults(Exception):
    pass


def _files(root: str, name: str) -> list:
    found = sorted(f for g in SOURCES[name] for f in glob.glob(os.path.join(root, g)))
    if not found:
        raise MissingResults(f"{name}: no results file matches {', '.join(SOURCES[name])} under {root}")
    return found


def _latest_jsonl(files: list) -> tuple:
    """The records of the results file finished last (one invocation's gap table)."""
    def finished(f):
        return max((r.get("finished") or "" for r in analysis.read(f)), default="")
    f = max(files, key=finished)
    return [f], analysis.read(f)


def reference(root: str):
    """VibeTensor's reported ratios (the paper) beside real VibeTensor measured on an H100, per workload."""
    paper_file, h100_file = _files(root, "reference_paper")[-1], _files(root, "reference_h100")[-1]
    reported = json.load(open(paper_file))["ratios"]
    measured = {r["workload"]: r for r in json.load(open(h100_file))["rows"]}
    table = [{"workload": w, "paper": reported[w], "h100_measured": measured.get(w, {}).get("real_vibetensor")}
             for w in reported]

    def draw(ax):
        x = range(len(table))
        ax.bar([i - 0.2 for i in x], [t["paper"] for t in table], 0.4, label="as VibeTensor's paper reports")
        ax.bar([i + 0.2 for i in x], [t["h100_measured"] or 0 for t in table], 0.4, label="measured on one H100")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(list(x), [t["workload"] for t in table], rotation=20, ha="right")
        ax.set_ylabel("VibeTensor step time / PyTorch eager")
        ax.set_title("VibeTensor's own gap")
        ax.legend()
    return [paper_file, h100_file], table, draw


def gap(root: str):
    used, recs = _latest_jsonl(_files(root, "gap"))
    paper_file = _files(root, "reference_paper")[-1]
    reported = json.load(open(paper_file))["ratios"]
    rows = [r for r in analysis.gap_rows(recs) if "ratio" in r and r["policy_set"] in ("tuned", "vibe")]
    workloads = [w for w in reported if any(r["workload"] == w for r in rows)]
    table = [{"workload": w, "tuned": _ratio(rows, w, "tuned"), "vibe": _ratio(rows, w, "vibe"),
              "vibetensor_paper": reported[w]} for w in workloads]
    used = used + [paper_file]

    def draw(ax):
        x = range(len(table))
        width = 0.27
        for k, (key, label) in enumerate((("tuned", "vibetensor tuned"), ("vibe", "vibetensor vibe"),
                                          ("vibetensor_paper", "VibeTensor (paper runtime)"))):
            ax.bar([i + (k - 1) * width for i in x], [t[key] or 0 for t in table], width, label=label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(list(x), [t["workload"] for t in table], rotation=20, ha="right")
        ax.set_ylabel("step time / PyTorch eager")
        ax.set_title("The gap on one H100")
        ax.legend()
    return used, table, draw


def _ratio(rows, workload, policy_set):
    return next((r["ratio"] for r in rows if r["workload"] == workload and r["policy_set"] == policy_set), None)


def attribution(root: str):
    used = _files(root, "attribution")
    return _attribution(used, [r for f in used for r in analysis.read(f)], "Attribution of the gap to single policies")


def attribution_suite(root: str):
    """The vibe preset with its kernel suite launched from Python: one invocation of vibetensor ablate."""
    used, records = _latest_jsonl(_files(root, "attribution_suite"))
    return _attribution(used, records, "Attribution of the vibe - tuned gap, kernel suite included")


def _attribution(used: list, records: list, title: str):
    reports = analysis.attribute(records)
    policies = sorted({p["policy"] for rep in reports for p in rep["policies"]})
    table = [{"workload": rep["workload"], "gap_ms": rep["gap_ms"], "explained": rep["explained"],
              "explained_lo": rep["ci95"].get("explained", [None, None])[0],
              "explained_hi": rep["ci95"].get("explained", [None, None])[1],
              **{p["policy"]: p.get("share") for p in rep["policies"]}} for rep in reports]

    def draw(ax):
        left = [0.0] * len(table)
        cmap = __import__("matplotlib").colormaps["tab20"]
        for i, pol in enumerate(policies):
            vals = [max(t.get(pol) or 0.0, 0.0) * 100 for t in table]  # negative shares are noise; listed in the CSV
            ax.barh(range(len(table)), vals, left=left, label=pol, color=cmap(i % 20))
            left = [a + b for a, b in zip(left, vals)]
        ax.set_yticks(range(len(table)), [f"{t['workload']} ({t['gap_ms']:.1f} ms)" for t in table])
        for i, t in enumerate(table):
            ci = f" [{t['explained_lo'] * 100:.0f}, {t['explained_hi'] * 100:.0f}]" if t["explained_lo"] is not None else ""
            ax.text(left[i] + 2, i, f"{t['explained'] * 100:.0f}%{ci}", va="center", fontsize=8)
        ax.axvline(80, color="black", linestyle="--", linewidth=0.8)
        ax.set_xlabel("share of the vibe - tuned gap (%), (leave-one-out + add-one) / 2")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return used, table, draw


def contention(root: str):
    used = _files(root, "contention")[-1:]
    d = json.load(open(used[0]))
    by = {}
    for r in d["rows"]:
        by.setdefault(r["threads"], {})[r["gate"]] = r
    table = [{"threads": n, "per_graph_steps_per_s": g["per_graph"]["steps_per_s"],
              "global_steps_per_s": g["global"]["steps_per_s"],
              "ratio": g["per_graph"]["steps_per_s"] / g["global"]["steps_per_s"],
              "global_gate_wait_ms": g["global"]["gate_wait_ms"]} for n, g in sorted(by.items())
             if "per_graph" in g and "global" in g]

    def draw(ax):
        n = [t["threads"] for t in table]
        ax.plot(n, [t["per_graph_steps_per_s"] for t in table], "o-", label="autograd.gate=per_graph")
        ax.plot(n, [t["global_steps_per_s"] for t in table], "s-", label="autograd.gate=global")
        ax.set_xlabel("training threads")
        ax.set_ylabel("steps per second (all threads)")
        ax.set_title(f"Contention on the backward gate ({d['device']}, {d.get('cpu_count')} cores)")
        ax.legend()
    return used, table, draw


def probe_cost(root: str):
    table, used = [], []
    for f in _files(root, "probe_cost"):
        d = json.load(open(f))
        if "cross_build" not in d and "in_process" not in d:
            continue  # the first method's files (one median per variant) have no paired ratios
        used.append(f)
        for part in ("cross_build", "in_process"):
            for r in d.get(part) or []:
                if r["variant"] in ("a_compiled_out",) or (part == "in_process" and r["variant"] == "b_probes_off"):
                    continue
                table.append({"run": f"{d['device']} {d.get('workload', 'seq_reverse')} ({d.get('git_commit', '?')[:7]})",
                              "variant": r["variant"], "ratio": r["ratio"], "lo": r["ci95"][0], "hi": r["ci95"][1]})

    def draw(ax):
        labels = [f"{t['run']}: {t['variant']}" for t in table]
        ax.errorbar([t["ratio"] for t in table], range(len(table)),
                    xerr=[[t["ratio"] - t["lo"] for t in table], [t["hi"] - t["ratio"] for t in table]], fmt="o")
        ax.set_yticks(range(len(table)), labels, fontsize=7)
        for x, style in ((1.0, "-"), (1.01, "--"), (1.05, ":")):
            ax.axvline(x, color="black", linestyle=style, linewidth=0.8)
        ax.set_xlabel("step time ratio (median of paired ratios, 95% interval); targets 1.01 and 1.05")
        ax.set_title("What the probes cost")
    return used, table, draw


def chain_backward(root: str):
    used = _files(root, "chain_backward")[-1:]
    d = json.load(open(used[0]))
    table = [{k: v for k, v in r.items()} for r in d["rows"]]

    def draw(ax):
        n = [r["nodes"] for r in table]
        for key in [k for k in table[0] if k.endswith("_us")]:
            ax.plot(n, [r[key] / r["nodes"] for r in table], "o-", label=key[:-3])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("nodes in the chain")
        ax.set_ylabel("backward time per node (us)")
        ax.set_title(f"Chain-graph backward ({d['device']})")
        ax.legend(fontsize=7)
    return used, table, draw


def _latest_json(files: list, keep=lambda d: True) -> tuple:
    """The JSON results file measured last (its provenance time) among those `keep` accepts."""
    loaded = [(f, json.load(open(f))) for f in files]
    loaded = [(f, d) for f, d in loaded if keep(d)]
    if not loaded:
        raise MissingResults("no results file of the expected kind")
    f, d = max(loaded, key=lambda fd: fd[1].get("provenance", {}).get("time", ""))
    return [f], d


# The workloads' own row shapes and the large one, per family, that the kernel-backend figure shows.
_BACKEND_CASES = [("softmax", "33280x256"), ("rms_norm", "16384x128"), ("layer_norm", "33280x256"),
                  ("cross_entropy", "16384x4096"), ("softmax", "16384x8192"), ("rms_norm", "16384x8192"),
                  ("layer_norm", "16384x8192"), ("cross_entropy", "16384x8192")]


def kernel_backends(root: str):
    """Forward + backward time of each backend over torch's, bf16, at the workloads' row shapes and a large one."""
    used, d = _latest_json(_files(root, "kernel_backends"),
                           lambda d: any(r.get("impl") == "vt cute" for r in d.get("results", {}).get("rows", [])))
    rows = d["results"]["rows"]

    def ratio(family, shape, impl):
        return next((r["vs_torch"] for r in rows if r.get("family") == family and r.get("shape") == shape
                     and r.get("dtype") == "bfloat16" and r.get("pass") == "fwd+bwd" and r.get("impl") == impl), None)

    table = [{"case": f"{f}/{shape}", "native": ratio(f, shape, "vt native"), "triton": ratio(f, shape, "vt triton"),
              "cute": ratio(f, shape, "vt cute")} for f, shape in _BACKEND_CASES if ratio(f, shape, "vt cute")]

    def draw(ax):
        x = range(len(table))
        for k, key in enumerate(("native", "triton", "cute")):
            ax.bar([i + (k - 1) * 0.27 for i in x], [t[key] or 0 for t in table], 0.27, label=f"kernels.backend={key}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(list(x), [t["case"] for t in table], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("forward + backward time / PyTorch eager (bf16)")
        ax.set_title(f"The suite's backends ({d.get('provenance', {}).get('device', '?')})")
        ax.legend(fontsize=7)
    return used, table, draw


def capture(root: str):
    """Step time over PyTorch eager: PyTorch's whole-step CUDA graph and torch.compile beside vibetensor's vibe,
    tuned eager and tuned captured (step.capture=graph's mechanism, vt.cuda.graphed_step). A result file from
    before the vibe variant leaves its bars out, as does a variant that failed."""
    used, d = _latest_json(_files(root, "capture"))
    variants = ["torch graph", "torch.compile", "vt vibe", "vt tuned", "vt tuned+graph"]
    by = {}
    for r in d["results"]:  # a failed variant (an "error" row, no timing) leaves its bar out
        by.setdefault(r["workload"], {})[r.get("variant", "all")] = r.get("vs_torch_eager")
    table = [{"workload": w, **{v.replace(" ", "_").replace(".", "_").replace("+", "_"): vals.get(v) for v in variants}}
             for w, vals in by.items()]

    def draw(ax):
        x = range(len(table))
        keys = [k for k in table[0] if k != "workload" and any(t[k] is not None for t in table)]
        width = 0.8 / len(keys)
        for k, key in enumerate(keys):
            ax.bar([i + (k - (len(keys) - 1) / 2) * width for i in x], [t[key] or 0 for t in table], width, label=key)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(list(x), [t["workload"] for t in table])
        ax.set_ylabel("step time / PyTorch eager")
        ax.set_title(f"Captured steps ({d.get('provenance', {}).get('device', '?')})")
        ax.legend(fontsize=7)
    return used, table, draw


FIGURES = {"gap": gap, "reference": reference, "attribution": attribution, "attribution_suite": attribution_suite,
           "contention": contention, "probe_cost": probe_cost, "chain_backward": chain_backward,
           "kernel_backends": kernel_backends, "capture": capture}


def _write_csv(path: str, table: list) -> None:
    keys = []
    for row in table:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(table)


def _provenance_values(files: list, key: str) -> list:
    out = set()
    for f in files:
        if f.endswith(".jsonl"):
            out |= {str(r.get(key)) for r in analysis.read(f)}
        else:
            d = json.load(open(f))
            out.add(str(d.get(key, d.get("provenance", {}).get(key, "?"))))
    return sorted(out)


def _commits(files: list) -> list:
    return sorted({c[:7] for c in _provenance_values(files, "git_commit")})


def devices(files: list) -> list:
    """The devices the results files were measured on (their records' or provenance's device_name), where recorded."""
    names = set(_provenance_values(files, "device_name"))
    names |= {str(json.load(open(f)).get("provenance", {}).get("device", "?")) for f in files if f.endswith(".json")}
    return sorted(d for d in names if d not in ("?", "None"))


def make(root: str, out: str, only: list | None = None) -> tuple:
    """Writes the figures; returns ({name: files used}, {name: why it was skipped})."""
    try:
        import matplotlib
    except ImportError as e:
        raise SystemExit("vibetensor-figures needs matplotlib: pip install 'vibetensor[paper]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    unknown = [n for n in (only or []) if n not in FIGURES]
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}: expected some of {sorted(FIGURES)}")
    os.makedirs(out, exist_ok=True)
    made, skipped = {}, {}
    for name in only or FIGURES:
        try:
            used, table, draw = FIGURES[name](root)
        except MissingResults as e:
            skipped[name] = str(e)
            continue
        if not table:
            skipped[name] = f"{name}: the results files hold no rows for it ({', '.join(used)})"
            continue
        fig, ax = plt.subplots(figsize=(8, 4.5))
        draw(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"{name}.png"), dpi=150, bbox_inches="tight")
        plt.close(fig)
        _write_csv(os.path.join(out, f"{name}.csv"), table)
        made[name] = used
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("# Figures\n\nRegenerated by `vibetensor-figures` (paper/figures.py) from recorded results.\n\n")
        f.write("| figure | results files | commits |\n| --- | --- | --- |\n")
        for name, used in made.items():
            rel = ", ".join(f"`{os.path.relpath(u, root)}`" for u in used)
            f.write(f"| `{name}.png` (`{name}.csv`) | {rel} | {', '.join(_commits(used))} |\n")
        for name, why in skipped.items():
            f.write(f"| `{name}` | not made: {why} | |\n")
    return made, skipped


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="vibetensor-figures", description=__doc__.splitlines()[0])
    p.add_argument("--results", default=os.path.join("experiments", "results"), help="(run from the repository root)")
    p.add_argument("--out", default=os.path.join("paper", "figures"))
    p.add_argument("--only", nargs="+", metavar="FIGURE", help=f"some of {', '.join(FIGURES)}")
    a = p.parse_args(argv)
    made, skipped = make(a.results, a.out, a.only)
    for name, used in made.items():
        print(f"{name}: {os.path.join(a.out, name + '.png')} from {len(used)} file(s)")
    for why in skipped.values():
        print(f"SKIPPED {why}")
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
