"""Gap tables: each vibetensor cell against its PyTorch twin measured beside it (the same group of
interleaved rounds, or for older sequential results the same invocation)."""
import random
import statistics


def _bootstrap(stat, n: int, reps: int, seed: int) -> tuple:
    rng = random.Random(seed)
    rs = sorted(stat([rng.randrange(n) for _ in range(n)]) for _ in range(reps))
    return rs[int(0.025 * reps)], rs[int(0.975 * reps)]


def _split(times: list, blocks: list) -> list:
    out, i = [], 0
    for n in blocks:
        out.append(times[i:i + n])
        i += n
    return out


def ratio_ci(a: list, b: list, reps: int = 1000, seed: int = 0, blocks_a: list | None = None,
             blocks_b: list | None = None) -> tuple:
    """Bootstrap 95% interval of median(a) / median(b). With the blocks of two cells interleaved in
    rounds (one block of each per round), rounds are resampled, both cells' blocks together, so the
    interval holds the variation between rounds (Note [Interleaved rounds]); else single steps."""
    if blocks_a and blocks_b and len(blocks_a) == len(blocks_b) > 1:
        ra, rb = _split(a, blocks_a), _split(b, blocks_b)
        return _bootstrap(lambda idx: statistics.median(t for i in idx for t in ra[i]) /
                          statistics.median(t for i in idx for t in rb[i]), len(ra), reps, seed)
    rng = random.Random(seed)
    rs = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
                for _ in range(reps))
    return rs[int(0.025 * reps)], rs[int(0.975 * reps)]


def loss_parity(a: list, b: list, n: int = 50, rtol: float = 1e-4) -> dict:
    """Compares the first n losses of two runs; reports the worst relative difference."""
    k = min(n, len(a), len(b))
    worst = max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a[:k], b[:k])), default=0.0)
    return {"steps_compared": k, "max_rel_diff": worst, "rtol": rtol, "ok": worst <= rtol}


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


# Cells of the old sequential runner (no group_id) paired across more than this many seconds are marked.
FAR_APART_S = 600


def _twin_key(r: dict) -> tuple:
    """Cells interleaved in rounds pair within their group run; older sequential cells within their
    invocation, workload, device and repeat."""
    if r.get("group_id"):
        return ("group", r["group_id"])
    return ("invocation", r["workload"], r["device"], r.get("repeat", 0), r.get("invocation"))


def _seconds_apart(a: dict, b: dict):
    import datetime as dt
    try:
        ta, tb = (dt.datetime.fromisoformat(x["started"]) for x in (a, b))
    except (KeyError, TypeError, ValueError):
        return None
    return abs((ta - tb).total_seconds())


def gap_rows(records: list) -> list:
    records = _collapse_blocks([r for r in records if r.get("status") != "failed"])
    torch_by = {_twin_key(r): r for r in records if r["framework"] == "torch"}
    rows = []
    for r in records:
        if r["framework"] != "vibetensor":
            continue
        twin = torch_by.get(_twin_key(r))
        row = {"workload": r["workload"], "policy_set": r.get("policy_set", "-"), "device": r["device"],
               "vt_ms": r["median_step_ms"], "torch_ms": twin["median_step_ms"] if twin else None,
               "vt_busy": _busy(r), "torch_busy": _busy(twin) if twin else None,
               "vt_kernel_ms": _kernel_ms(r), "torch_kernel_ms": _kernel_ms(twin) if twin else None,
               "syncs": r.get("syncs_per_step_total"), "top_lock": _top_lock(r),
               "augment_ms": r.get("median_augment_ms"), "method": r.get("method", "sequential")}
        if twin:
            row["ratio"] = r["median_step_ms"] / twin["median_step_ms"]
            row["ci"] = ratio_ci(r["step_times_s"], twin["step_times_s"], blocks_a=r.get("blocks"),
                                 blocks_b=twin.get("blocks"))
            row["parity"] = loss_parity(r["losses"], twin["losses"])
            apart = _seconds_apart(r, twin)
            row["far_apart"] = not r.get("group_id") and apart is not None and apart > FAR_APART_S
        rows.append(row)
    return rows


def _busy(rec):
    return ((rec or {}).get("gpu_activity") or {}).get("busy_fraction")


def _kernel_ms(rec):
    """GPU kernel time per step (the union of kernel intervals) under CUPTI, or None."""
    return ((rec or {}).get("gpu_activity") or {}).get("busy_ms_per_step")


def _ms(x):
    return f"{x:.2f}" if x is not None else "-"


def _top_lock(rec):
    """(name, wait ms per step) of the lock waited on longest in the probe steps, or None."""
    locks = ((rec or {}).get("probes") or {}).get("top_lock_waits") or []
    return (locks[0]["name"], locks[0]["wait_ms_per_step"]) if locks else None


def _pct(x):
    return f"{100 * x:.0f}%" if x is not None else "-"


def _lock(r):
    name, ms = r["top_lock"]
    return f"{name} {ms:.3f}"


def _ratio(r):
    return f"{r['ratio']:.2f}x" + ("*" if r.get("far_apart") else "")


# (heading, left-aligned?, cell text) per column of the gap table. A column whose cells are all "-"
# is left out (GPU busy on a CPU, aug ms without augmentation).
COLUMNS = [
    ("workload", True, lambda r: r["workload"]),
    ("policy set", True, lambda r: r["policy_set"] or "-"),
    ("device", True, lambda r: r["device"]),
    ("vt ms", False, lambda r: f"{r['vt_ms']:.2f}"),
    ("torch ms", False, lambda r: f"{r['torch_ms']:.2f}" if r["torch_ms"] else "-"),
    ("vt/torch", False, lambda r: _ratio(r) if "ratio" in r else "-"),
    ("95% CI", False, lambda r: f"{r['ci'][0]:.2f}-{r['ci'][1]:.2f}" if "ci" in r else "-"),
    ("aug ms", False, lambda r: f"{r['augment_ms']:.1f}" if r.get("augment_ms") is not None else "-"),
    ("busy vt/pt", False, lambda r: (f"{_pct(r.get('vt_busy'))}/{_pct(r.get('torch_busy'))}"
                                     if r.get("vt_busy") is not None or r.get("torch_busy") is not None else "-")),
    ("GPU ms vt/pt", False, lambda r: (f"{_ms(r.get('vt_kernel_ms'))}/{_ms(r.get('torch_kernel_ms'))}"
                                          if r.get("vt_kernel_ms") is not None or r.get("torch_kernel_ms") is not None
                                          else "-")),
    ("syncs", False, lambda r: f"{r['syncs']:.0f}" if r.get("syncs") is not None else "-"),
    ("top lock ms/step", True, lambda r: _lock(r) if r.get("top_lock") else "-"),
    ("loss 1e-4", True, lambda r: (f"{'ok' if r['parity']['ok'] else 'DIV'} {r['parity']['max_rel_diff']:.0e}"
                                   if r.get("parity") else "-")),
]
MAX_WIDTH = 120
# Text columns narrowed (longest first, down to 10 characters, a cut marked ~) when the table is wider.
SHRINKABLE = ("top lock ms/step", "policy set", "workload")
# One explanation per column, printed only for the columns the table shows.
LEGEND = {
    "vt/torch": "vt/torch: vibetensor / PyTorch median step time (>1: vibetensor slower)",
    "95% CI": "95% CI: bootstrap over the rounds in which the cells took turns (over steps for cells run one "
              "after another)",
    "busy vt/pt": "busy: GPU kernel time / wall",
    "GPU ms vt/pt": "GPU ms: kernel time per step (same kernels, more host time: equal GPU ms, lower busy)",
    "syncs": "syncs: host-blocking syncs per step",
    "loss 1e-4": "loss 1e-4: worst relative loss difference over the first 50 steps",
}


def _legend(names) -> list:
    """The explanations of the shown columns, joined '; ' into lines of at most MAX_WIDTH characters."""
    lines, cur = [], ""
    for part in (LEGEND[n] for n in names if n in LEGEND):
        cand = f"{cur}; {part}" if cur else part
        if cur and len(cand) > MAX_WIDTH:
            lines.append(cur + ";")
            cand = "  " + part
        cur = cand
    return lines + ([cur + "."] if cur else [])


def format_table(rows: list) -> str:
    """The gap table, at most MAX_WIDTH characters wide: columns with nothing to show are left out,
    the device column too when every row has the same device (it goes into the title line)."""
    cols = [c for c in COLUMNS if any(c[2](r) != "-" for r in rows)] if rows else COLUMNS[:6]
    devices = sorted({r["device"] for r in rows})
    if len(devices) == 1:
        cols = [c for c in cols if c[0] != "device"]
    texts = [[f(r) for _, _, f in cols] for r in rows]
    widths = [max([len(h)] + [len(t[i]) for t in texts]) for i, (h, _, _) in enumerate(cols)]
    excess = sum(widths) + len(widths) - 1 - MAX_WIDTH
    for name in SHRINKABLE:
        for i, (h, _, _) in enumerate(cols):
            if h == name and excess > 0:
                cut = min(excess, widths[i] - max(10, len(h)))
                if cut > 0:
                    widths[i] -= cut
                    excess -= cut

    def fit(text, w):
        return text if len(text) <= w else text[:w - 1] + "~"

    def line(cells):
        return " ".join(f"{fit(c, w):<{w}}" if left else f"{fit(c, w):>{w}}"
                        for c, w, (_, left, _) in zip(cells, widths, cols)).rstrip()

    head = line([h for h, _, _ in cols])
    title = f"gap table ({devices[0]})" if len(devices) == 1 else "gap table"
    out = [title, head, "-" * len(head)] + [line(t) for t in texts]
    if not rows:
        out.append("(no finished vibetensor cells)")
    out += _legend([h for h, _, _ in cols])
    if any(r.get("far_apart") for r in rows):
        out.append(f"* cells run one after another more than {FAR_APART_S // 60} min apart (a resumed run): "
                   "not measured in the same window")
    methods = sorted({r.get("method", "sequential") for r in rows})
    if methods and methods != ["interleaved_rounds"]:
        out.append(f"measured as: {', '.join(methods)}")
    return "\n".join(out)
