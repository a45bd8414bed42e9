"""Attribution of the vibe - tuned step-time gap to single policies, from one-at-a-time ablations.

For every workload and device, the records of one or more invocations with policy sets
  tuned, vibe, vibe with one policy set back to its tuned value ("leave-one-out"), and
  tuned with one policy set to its vibe value ("add-one")
give each policy p three shares of the gap G = vibe_ms - tuned_ms:
  removal share  r_p = (vibe_ms - vibe_without_p_ms) / G   (what turning p off in vibe saves)
  addition share a_p = (tuned_with_p_ms - tuned_ms) / G    (what turning p on in tuned costs)
  share          s_p = (r_p + a_p) / 2                     (Note [Attribution with interactions])
The explained fraction is the sum of the shares s_p (the issue's >= 80% target); the sums of r_p and
a_p are reported beside it. Each difference is the median of per-sample differences (a sample is one
repeat of one invocation, Note [Attribution pairs]); the 95% intervals come from resampling the samples (bootstrap).
A record's probe summary (per-step counters, lock waits) is shown as the evidence for each share.

Note [Attribution with interactions]
Policies interact: two thread hand-offs cost more together than apart, and host time added under a
GPU-bound step hides until the host becomes the longer side. Then the r_p sum past 100% and the a_p
sum falls short. Write the step time over the set S of policies at their vibe values as
f(S) = c + sum m_i + sum w_ij (pairwise interactions). Then a_p = m_p and r_p = m_p + sum_j w_pj, so
(r_p + a_p) / 2 = m_p + sum_j w_pj / 2, which is p's Shapley value, and the shares sum to exactly
G. What the sum of s_p misses is higher-order interaction and noise; that is what the explained
fraction measures.

Note [Attribution pairs]
Step times of fresh processes of one configuration differ by 5-10%, so a difference between two
policy sets is taken sample by sample (the same repeat of a config; the same process and cycle of
`vibetensor ablate`, where most variants share a process) and the median of those differences is
the estimate. Sets with no sample in common fall back to the difference of their medians.
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


def _sample_key(r: dict):
    return (r.get("invocation"), r.get("repeat", 0))


def _paired_ms(a: list, b: list) -> float:
    """a - b in ms: the median of per-sample differences where both sets have the sample (cells of
    one process and cycle, or of one repeat), else the difference of the medians."""
    by_a = {}
    for r in a:
        by_a.setdefault(_sample_key(r), []).append(r["median_step_ms"])
    diffs = []
    for r in b:
        for va in by_a.get(_sample_key(r), []):
            diffs.append(va - r["median_step_ms"])
    return statistics.median(diffs) if diffs else _median_ms(a) - _median_ms(b)


def _shares(by_set: dict, tuned: dict, vibe: dict) -> dict:
    """The gap and per-policy ms, each a paired difference over samples (Note [Attribution pairs])."""
    rows = {}
    for name, rs in by_set.items():
        pol = rs[0]["policy"]
        from_vibe, from_tuned = _policy_diff(vibe, pol), _policy_diff(tuned, pol)
        if len(from_vibe) == 1 and pol[from_vibe[0]] == tuned.get(from_vibe[0]):
            rows.setdefault(from_vibe[0], {})["removal_ms"] = _paired_ms(by_set["vibe"], rs)
        elif len(from_tuned) == 1 and pol[from_tuned[0]] == vibe.get(from_tuned[0]):
            rows.setdefault(from_tuned[0], {})["addition_ms"] = _paired_ms(rs, by_set["tuned"])
    gap = _paired_ms(by_set["vibe"], by_set["tuned"])
    for row in rows.values():
        for k in ("removal", "addition"):
            if f"{k}_ms" in row and gap:
                row[f"{k}_share"] = row[f"{k}_ms"] / gap
        if "removal_share" in row and "addition_share" in row:
            row["share"] = (row["removal_share"] + row["addition_share"]) / 2
    totals = {f"explained_by_{k}": sum(r.get(f"{k}_share", 0.0) for r in rows.values()) for k in ("removal", "addition")}
    totals["explained"] = sum(r.get("share", 0.0) for r in rows.values())
    return {"tuned_ms": _median_ms(by_set["tuned"]), "vibe_ms": _median_ms(by_set["vibe"]), "gap_ms": gap,
            "rows": rows, **totals}


def _bootstrap(recs: list, tuned: dict, vibe: dict, n: int = 500, seed: int = 0) -> dict:
    """95% intervals of the gap and explained fractions, resampling whole samples (repeats)."""
    import random

    samples = {}
    for r in recs:
        samples.setdefault(_sample_key(r), []).append(r)
    keys = sorted(samples, key=str)
    if len(keys) < 2:
        return {}
    rng = random.Random(seed)
    draws = {"gap_ms": [], "explained": [], "explained_by_removal": [], "explained_by_addition": []}
    for _ in range(n):
        by_set = {}
        for i, k in enumerate(rng.choices(keys, k=len(keys))):
            for r in samples[k]:  # a sample drawn twice is two samples, each paired only with itself
                by_set.setdefault(r.get("policy_set"), []).append({**r, "invocation": (r.get("invocation"), i)})
        if "tuned" not in by_set or "vibe" not in by_set:
            continue
        res = _shares(by_set, tuned, vibe)
        for name in draws:
            draws[name].append(res[name])
    ci = {}
    for name, vals in draws.items():
        vals.sort()
        if vals:
            ci[name] = [vals[int(0.025 * len(vals))], vals[max(int(0.975 * len(vals)) - 1, 0)]]
    return ci


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
        res = _shares(by_set, tuned, vibe)
        rows = []
        for policy, row in res["rows"].items():
            row = {"policy": policy, **row}
            for name, rs in by_set.items():  # the evidence: probe figures of the first sample's cells
                pol = rs[0]["policy"]
                if _policy_diff(vibe, pol) == [policy]:
                    row["removal_evidence"] = _evidence(by_set["vibe"][0], rs[0])
                elif _policy_diff(tuned, pol) == [policy]:
                    row["addition_evidence"] = _evidence(rs[0], by_set["tuned"][0])
            rows.append(row)
        rows.sort(key=lambda r: -r.get("share", r.get("removal_share", 0.0)))
        reports.append({"workload": workload, "device": device, "tuned_ms": res["tuned_ms"], "vibe_ms": res["vibe_ms"],
                        "gap_ms": res["gap_ms"], "policies": rows, "samples": len({_sample_key(r) for r in recs}),
                        "explained": res["explained"], "explained_by_removal": res["explained_by_removal"],
                        "explained_by_addition": res["explained_by_addition"], "ci95": _bootstrap(recs, tuned, vibe)})
    return reports


def _ci(rep: dict, name: str, scale: float = 100.0, fmt: str = ".0f") -> str:
    lo_hi = rep.get("ci95", {}).get(name)
    return f" [{format(scale * lo_hi[0], fmt)}, {format(scale * lo_hi[1], fmt)}]" if lo_hi else ""


def format_attribution(reports: list) -> str:
    out = []
    for rep in reports:
        out.append(f"{rep['workload']} on {rep['device']} ({rep['samples']} sample(s)): tuned {rep['tuned_ms']:.2f} ms, "
                   f"vibe {rep['vibe_ms']:.2f} ms, gap {rep['gap_ms']:.2f} ms{_ci(rep, 'gap_ms', 1.0, '.2f')}")
        out.append(f"  explained {100 * rep['explained']:.0f}%{_ci(rep, 'explained')} "
                   f"(leave-one-out {100 * rep['explained_by_removal']:.0f}%{_ci(rep, 'explained_by_removal')}, "
                   f"add-one {100 * rep['explained_by_addition']:.0f}%{_ci(rep, 'explained_by_addition')})")
        out.append(f"  {'policy':<20} {'share':>6} {'remove: ms':>10} {'share':>6} {'add: ms':>8} {'share':>6}  "
                   "evidence (vibe vs vibe without the policy)")
        for r in rep["policies"]:
            def cell(k, fmt):
                return format(r[k], fmt) if k in r else "-"
            out.append(f"  {r['policy']:<20} {cell('share', '6.0%'):>6} {cell('removal_ms', '10.2f'):>10} "
                       f"{cell('removal_share', '6.0%'):>6} {cell('addition_ms', '8.2f'):>8} "
                       f"{cell('addition_share', '6.0%'):>6}  {r.get('removal_evidence', '-')}")
        out.append("")
    return "\n".join(out) if out else "no workload has both tuned and vibe cells with one-at-a-time ablations"
