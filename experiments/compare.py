"""Gap tables: each vibetensor cell against its PyTorch twin from the same invocation."""
import random
import statistics

from vibetensor.experiments.runner import loss_parity


def ratio_ci(a: list, b: list, reps: int = 1000, seed: int = 0) -> tuple:
    """Bootstrap 95% interval of median(a) / median(b)."""
    rng = random.Random(seed)
    rs = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
                for _ in range(reps))
    return rs[int(0.025 * reps)], rs[int(0.975 * reps)]


def failed_cells(records: list) -> list:
    """Cells recorded as failed (a crash or a cell_timeout_s kill), with the last line of their error."""
    return [f"{r['cell']}: {(r.get('error') or '').strip().splitlines()[-1:] or ['?']}" for r in records
            if r.get("status") == "failed"]


def _collapse_blocks(records: list) -> list:
    """`vibetensor ablate` writes one record per block; the table shows one row per policy set
    with the median over its blocks."""
    out, blocks = [], {}
    for r in records:
        if r.get("method") == "in_process_blocks":
            blocks.setdefault((r["workload"], r["device"], r.get("policy_set")), []).append(r)
        else:
            out.append(r)
    for recs in blocks.values():
        out.append({**recs[0], "median_step_ms": statistics.median(r["median_step_ms"] for r in recs)})
    return out


def provenance_mix(records: list) -> str:
    """A mark for results that come from more than one commit or device ('' when they do not):
    rows pair cells of one invocation only, but the attribution pools cells across files."""
    commits = sorted({str(r.get("git_commit"))[:12] for r in records})
    devices = sorted({str(r.get("device")) for r in records})
    if len(commits) <= 1 and len(devices) <= 1:
        return ""
    return (f"MIXED PROVENANCE: {len(records)} records from commits {', '.join(commits)} on devices "
            f"{', '.join(devices)}. Each row pairs cells of one invocation; the attribution pools cells of "
            "one workload and device across commits.")


def gap_rows(records: list) -> list:
    records = _collapse_blocks([r for r in records if r.get("status") != "failed"])
    torch_by = {}
    for r in records:
        if r["framework"] == "torch":
            torch_by[(r["workload"], r["device"], r.get("repeat", 0), r.get("invocation"))] = r
    rows = []
    for r in records:
        if r["framework"] != "vibetensor":
            continue
        twin = torch_by.get((r["workload"], r["device"], r.get("repeat", 0), r.get("invocation")))
        row = {"workload": r["workload"], "policy_set": r.get("policy_set", "-"), "device": r["device"],
               "vt_ms": r["median_step_ms"], "torch_ms": twin["median_step_ms"] if twin else None,
               "vt_busy": _busy(r), "torch_busy": _busy(twin) if twin else None,
               "syncs": r.get("syncs_per_step_total"), "top_lock": _top_lock(r),
               "augment_ms": r.get("median_augment_ms")}
        if twin:
            row["ratio"] = r["median_step_ms"] / twin["median_step_ms"]
            row["ci"] = ratio_ci(r["step_times_s"], twin["step_times_s"])
            row["parity"] = loss_parity(r["losses"], twin["losses"])
        rows.append(row)
    return rows


def _busy(rec):
    return ((rec or {}).get("gpu_activity") or {}).get("busy_fraction")


def _top_lock(rec):
    """(name, wait ms per step) of the lock waited on longest in the probe steps, or None."""
    locks = ((rec or {}).get("probes") or {}).get("top_lock_waits") or []
    return (locks[0]["name"], locks[0]["wait_ms_per_step"]) if locks else None


def _pct(x):
    return f"{100 * x:.0f}%" if x is not None else "-"


# (heading, width, cell text) per column of the gap table.
COLUMNS = [
    ("workload", -16, lambda r: r["workload"]),
    ("policy set", -22, lambda r: r["policy_set"] or "-"),
    ("device", -6, lambda r: r["device"]),
    ("vibetensor ms", 13, lambda r: f"{r['vt_ms']:.2f}"),
    ("torch ms", 9, lambda r: f"{r['torch_ms']:.2f}" if r["torch_ms"] else "-"),
    ("ratio", 6, lambda r: f"{r['ratio']:.2f}x" if "ratio" in r else "-"),
    ("95% CI", 15, lambda r: f"[{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]" if "ci" in r else "-"),
    ("aug ms", 7, lambda r: f"{r['augment_ms']:.1f}" if r.get("augment_ms") is not None else "-"),
    ("GPU busy vt/torch", 17, lambda r: f"{_pct(r.get('vt_busy'))}/{_pct(r.get('torch_busy'))}"),
    ("syncs/step", 10, lambda r: f"{r['syncs']:.1f}" if r.get("syncs") is not None else "-"),
    ("top lock wait (ms/step)", -34,
     lambda r: f"{r['top_lock'][0]} {r['top_lock'][1]:.3f}" if r.get("top_lock") else "-"),
    ("loss parity (50 steps)", 24, lambda r: (f"{'ok' if r['parity']['ok'] else 'DIVERGED'} "
                                              f"(max {r['parity']['max_rel_diff']:.1e})") if r.get("parity") else "-"),
]


def format_table(rows: list) -> str:
    def line(cells):
        return " ".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, (_, w, _) in zip(cells, COLUMNS))

    head = line([h for h, _, _ in COLUMNS])
    return "\n".join([head, "-" * len(head)] + [line([f(r) for _, _, f in COLUMNS]) for r in rows])
