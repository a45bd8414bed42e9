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


def gap_rows(records: list) -> list:
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
               "vt_ms": r["median_step_ms"], "torch_ms": twin["median_step_ms"] if twin else None}
        if twin:
            row["ratio"] = r["median_step_ms"] / twin["median_step_ms"]
            row["ci"] = ratio_ci(r["step_times_s"], twin["step_times_s"])
            row["parity"] = loss_parity(r["losses"], twin["losses"])
        rows.append(row)
    return rows


def format_table(rows: list) -> str:
    head = f"{'workload':<12} {'policy set':<22} {'device':<6} {'vibetensor ms':>13} {'torch ms':>9} {'ratio':>6} {'95% CI':>15} {'loss parity (50 steps)':>24}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        ci = f"[{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]" if "ci" in r else "-"
        par = r.get("parity")
        ptxt = (f"{'ok' if par['ok'] else 'DIVERGED'} (max {par['max_rel_diff']:.1e})") if par else "-"
        tms = f"{r['torch_ms']:.2f}" if r["torch_ms"] else "-"
        lines.append(f"{r['workload']:<12} {r['policy_set']:<22} {r['device']:<6} {r['vt_ms']:>13.2f} {tms:>9} {ratio:>6} {ci:>15} {ptxt:>24}")
    return "\n".join(lines)
