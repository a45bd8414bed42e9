"""Runs Holistic Trace Analysis (package HolisticTraceAnalysis) on a folder of traces written by
vt.probes.trace: the temporal breakdown, idle time and kernel breakdown. Exits non-zero, with the
error, when HTA cannot parse the traces or the layout lacks what HTA reads.

    python scripts/hta_check.py TRACE_DIR [--out REPORT.json]

HTA's analyses are about GPU streams: a trace without kernels (CPU only) is checked for the
Kineto layout and reported as "no GPU kernels"; the analyses need a trace recorded on a GPU with
CUPTI (vt.probes.trace(..., cupti=True)). HTA reads one trace per rank: name the files
rank-<n>.json or give distributedInfo.rank (vt.probes.trace writes rank 0).
"""
import argparse
import glob
import json
import os
import sys

REQUIRED_TOP = ("traceEvents", "distributedInfo", "deviceProperties", "schemaVersion")
KERNEL_ARGS = ("correlation", "External id", "device", "stream")


def check_layout(path: str) -> int:
    """Checks one trace file against the Kineto fields HTA reads; returns its kernel count."""
    with open(path) as f:
        d = json.load(f)
    missing = [k for k in REQUIRED_TOP if k not in d]
    if missing:
        raise SystemExit(f"{path}: not in the Kineto layout, missing top-level {missing}")
    if "rank" not in d["distributedInfo"]:
        raise SystemExit(f"{path}: distributedInfo has no rank (HTA keys traces by rank)")
    kernels = [e for e in d["traceEvents"] if e.get("cat") == "kernel"]
    for e in d["traceEvents"]:
        if e.get("ph") == "X" and not {"ts", "dur", "pid", "tid", "name"} <= e.keys():
            raise SystemExit(f"{path}: complete event without ts/dur/pid/tid/name: {e}")
    for k in kernels:
        lacking = [a for a in KERNEL_ARGS if a not in k.get("args", {})]
        if lacking:
            raise SystemExit(f"{path}: kernel event {k['name']!r} lacks args {lacking}")
    return len(kernels)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace_dir")
    p.add_argument("--out", help="write the analyses' tables here as JSON")
    a = p.parse_args()
    files = sorted(glob.glob(os.path.join(a.trace_dir, "*.json")) + glob.glob(os.path.join(a.trace_dir, "*.json.gz")))
    if not files:
        raise SystemExit(f"{a.trace_dir}: no *.json traces")
    kernels = sum(check_layout(f) for f in files if f.endswith(".json"))
    print(f"{len(files)} trace(s), Kineto layout ok, {kernels} GPU kernel events")
    try:
        from hta.trace_analysis import TraceAnalysis
    except ImportError as e:
        raise SystemExit(f"HolisticTraceAnalysis is not importable ({e}); pip install HolisticTraceAnalysis "
                         "(it needs pandas, numpy, plotly, pydot, networkx)")
    try:
        analyzer = TraceAnalysis(trace_dir=a.trace_dir)
    except Exception as e:
        raise SystemExit(f"HTA failed to parse the traces in {a.trace_dir}: {type(e).__name__}: {e}")
    if kernels == 0:
        print("no GPU kernels: HTA parsed the trace; its analyses need GPU streams (record on a GPU with CUPTI: vt.probes.cupti)")
        return 0
    report = {}
    try:
        report["temporal_breakdown"] = analyzer.get_temporal_breakdown(visualize=False)
        report["idle_time"] = analyzer.get_idle_time_breakdown(visualize=False)[0]
        report["kernel_breakdown"] = analyzer.get_gpu_kernel_breakdown(visualize=False)[0]
    except Exception as e:
        import traceback

        traceback.print_exc()
        raise SystemExit(f"HTA parsed the traces but an analysis failed: {type(e).__name__}: {e}")
    for name, df in report.items():
        print(f"\n== {name}\n{df.to_string(index=False)}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({k: v.to_dict(orient="records") for k, v in report.items()}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
