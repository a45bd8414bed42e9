"""Attribution of the vibe - tuned step-time gap to single policies, from one-at-a-time ablations.

For every workload and device, the records of one invocation with policy sets
  tuned, vibe, vibe with one policy set back to its tuned value ("leave-one-out"), and
  tuned with one policy set to its vibe value ("add-one")
give each policy two shares of the gap (vibe_ms - tuned_ms):
  removal share  = (vibe_ms - vibe_without_p_ms) / gap   (what turning p off in vibe saves)
  addition share = (tuned_with_p_ms - tuned_ms) / gap    (what turning p on in tuned costs)
The explained fraction is the sum of the removal shares (the issue's >= 80% target); the two columns
differ where policies interact (a sync that exposes another policy's host time, for example).
A record's probe summary (per-step counters, lock waits) is shown as the evidence for each share.
"""
import statistics


def _policy_diff(a: dict, b: dict) -> list:
    return sorted(k for k in set(a) | set(b) if not k.startswith("probes.") and a.get(k) != b.get(k))


def _median_ms(recs: list) -> float:
    return statistics.median(r["median_step_ms"] for r in recs)


def probe_figures(rec: dict) -> dict:
    """A cell's per-step probe figures, flat: counters, host syncs, and the top lock waits (ms)."""
    probes = rec.get("probes") or {}
    out = dict(probes.get("counters_per_step") or {})
    if rec.get("syncs_per_step_total") is not None:
        out["host_syncs"] = rec["syncs_per_step_total"]
    for lock in probes.get("top_lock_waits") or []:
        out[f"wait_ms[{lock['name']}]"] = lock["wait_ms_per_step"]
    return out


def _evidence(rec_with: dict, rec_without: dict, top: int = 3) -> str:
    """The per-step probe figures that differ most between two cells (what the policy changed)."""
    a, b = probe_figures(rec_with), probe_figures(rec_without)
    diffs = []
    for k in set(a) | set(b):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va != vb:
            diffs.append((abs(va - vb) / max(abs(va), abs(vb), 1e-9), k, va, vb))
    diffs.sort(reverse=True)
    return "; ".join(f"{k} {va:.3g} vs {vb:.3g}" for _, k, va, vb in diffs[:top]) or "-"


def attribute(records: list) -> list:
    """One report per (workload, device): the gap, per-policy shares and the explained fraction."""
    groups = {}
    for r in records:
        if r.get("framework") == "vibetensor" and r.get("status") != "failed":
            groups.setdefault((r["workload"], r["device"]), []).append(r)
    reports = []
    for (workload, device), recs in sorted(groups.items()):
        by_set = {}
        for r in recs:
            by_set.setdefault(r.get("policy_set"), []).append(r)
        if "tuned" not in by_set or "vibe" not in by_set:
            continue
        tuned, vibe = by_set["tuned"][0]["policy"], by_set["vibe"][0]["policy"]
        tuned_ms, vibe_ms = _median_ms(by_set["tuned"]), _median_ms(by_set["vibe"])
        gap = vibe_ms - tuned_ms
        rows = {}
        for name, rs in by_set.items():
            pol = rs[0]["policy"]
            from_vibe, from_tuned = _policy_diff(vibe, pol), _policy_diff(tuned, pol)
            if len(from_vibe) == 1 and pol[from_vibe[0]] == tuned.get(from_vibe[0]):
                row = rows.setdefault(from_vibe[0], {"policy": from_vibe[0]})
                row["removal_ms"] = vibe_ms - _median_ms(rs)
                row["removal_evidence"] = _evidence(by_set["vibe"][0], rs[0])
            elif len(from_tuned) == 1 and pol[from_tuned[0]] == vibe.get(from_tuned[0]):
                row = rows.setdefault(from_tuned[0], {"policy": from_tuned[0]})
                row["addition_ms"] = _median_ms(rs) - tuned_ms
                row["addition_evidence"] = _evidence(rs[0], by_set["tuned"][0])
        for row in rows.values():
            for k in ("removal", "addition"):
                if f"{k}_ms" in row and gap:
                    row[f"{k}_share"] = row[f"{k}_ms"] / gap
        explained = sum(r.get("removal_share", 0.0) for r in rows.values())
        reports.append({"workload": workload, "device": device, "tuned_ms": tuned_ms, "vibe_ms": vibe_ms,
                        "gap_ms": gap, "policies": sorted(rows.values(), key=lambda r: -r.get("removal_ms", 0.0)),
                        "explained_by_removal": explained,
                        "explained_by_addition": sum(r.get("addition_share", 0.0) for r in rows.values())})
    return reports


def format_attribution(reports: list) -> str:
    out = []
    for rep in reports:
        out.append(f"{rep['workload']} on {rep['device']}: tuned {rep['tuned_ms']:.2f} ms, vibe {rep['vibe_ms']:.2f} ms, "
                   f"gap {rep['gap_ms']:.2f} ms; explained by leave-one-out {100 * rep['explained_by_removal']:.0f}%, "
                   f"by add-one {100 * rep['explained_by_addition']:.0f}%")
        head = f"  {'policy':<20} {'remove: ms':>10} {'share':>6} {'add: ms':>8} {'share':>6}  evidence (vibe vs vibe without the policy)"
        out.append(head)
        for r in rep["policies"]:
            def cell(k, fmt):
                return format(r[k], fmt) if k in r else "-"
            out.append(f"  {r['policy']:<20} {cell('removal_ms', '10.2f'):>10} {cell('removal_share', '6.0%'):>6} "
                       f"{cell('addition_ms', '8.2f'):>8} {cell('addition_share', '6.0%'):>6}  {r.get('removal_evidence', '-')}")
        out.append("")
    return "\n".join(out) if out else "no workload has both tuned and vibe cells with one-at-a-time ablations"
