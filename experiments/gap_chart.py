"""The bar chart `vibetensor run` writes beside its results: one bar per vibetensor cell, its
vibetensor / PyTorch ratio with the 95% interval, a line at 1 (parity with PyTorch)."""
import os


def write(rows: list, path: str, title: str = "") -> bool:
    """Writes the chart of the gap rows that have a ratio to `path` (PNG); False when none has one."""
    rows = [r for r in rows if "ratio" in r]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")  # files only; no display is needed or wanted
    import matplotlib.pyplot as plt

    labels = [f"{r['workload']} / {r['policy_set']}" + (f" ({r['device']})" if len({x['device'] for x in rows}) > 1 else "")
              for r in rows]
    ratios = [r["ratio"] for r in rows]
    lo = [r["ratio"] - r["ci"][0] for r in rows]
    hi = [r["ci"][1] - r["ratio"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.6))
    y = list(range(len(rows)))[::-1]
    colors = ["#c0504d" if r > 1 else "#4f81bd" for r in ratios]
    ax.barh(y, ratios, xerr=[lo, hi], color=colors, capsize=3, error_kw={"elinewidth": 1})
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    for yi, r in zip(y, ratios):
        ax.annotate(f"{r:.2f}x", (r, yi), xytext=(4, -3), textcoords="offset points", fontsize=8)
    ax.set_xlabel("vibetensor / PyTorch median step time (95% CI over interleaved rounds); >1: vibetensor slower")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, max(r["ci"][1] for r in rows) * 1.15)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
