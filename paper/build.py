"""The paper, regenerated from recorded results in one command:

    vibetensor-paper                          # experiments/results + paper/draft.md -> paper/build/
    vibetensor-paper --results DIR --out DIR --draft FILE
    vibetensor-paper --check                  # fill nothing in; only say whether the draft still builds

The draft (paper/draft.md, Markdown) quotes results only through placeholders, filled from the tables of
the figures (paper/figures.py) that read the results files:

    {{gap.minigpt.vibe}}      the table's row whose first column is minigpt, column vibe (2 decimals)
    {{attribution_suite.minigpt.optim.step}}  a column name may hold dots (everything after the row)
    {{min:gap.*.vibe}}        the smallest (max: the largest) of a column over the rows
    {{table:gap}}             the whole table, as Markdown
    {{figure:gap}}            the figure (regenerated into OUT/figures)
    {{provenance}}            per figure or table used: its results files, commits and devices

The build fails, saying which, when a placeholder names a table, row or column the results do not give,
when a figure or table that the text uses has no results or mixes commits or devices, and when the text
types a measured number (a ratio such as 1.5x, a time, a percentage) instead of quoting it. It writes
OUT/paper.md, OUT/paper.html (with the `markdown` package, the `paper` extra) and OUT/figures/.
"""
import argparse
import glob
import os
import re
import shutil
import sys
import time

from vibetensor.paper import figures

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
# a measured number typed into the text: 1.5x, 12 ms, 85%, 3.0 TB/s, 0.4 us
TYPED_NUMBER = re.compile(r"(?<![\w.{])\d+(\.\d+)?\s?(x\b|×|ms\b|us\b|µs\b|%|TB/s|GB/s)")


class PaperError(Exception):
    pass


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


class Tables:
    """The figures' tables (computed on first use) with the files each came from."""

    def __init__(self, root):
        self.root = root
        self.cache = {}

    def get(self, name):
        if name not in self.cache:
            if name not in figures.FIGURES:
                raise PaperError(f"no table named '{name}' (tables: {', '.join(sorted(figures.FIGURES))})")
            try:
                used, table, _ = figures.FIGURES[name](self.root)
            except figures.MissingResults as e:
                raise PaperError(f"table '{name}' has no results: {e}") from None
            if not table:
                raise PaperError(f"table '{name}': its results files hold no rows ({', '.join(used)})")
            self.cache[name] = (used, table)
        return self.cache[name]

    def check_provenance(self, name):
        used, _ = self.get(name)
        # VibeTensor's reference files are of another runtime: their commits name it, not vibetensor
        measured = [u for u in used if "vibetensor_reference" not in u]
        commits, devices = figures._commits(measured), figures.devices(measured)
        if len(commits) > 1:
            raise PaperError(f"table '{name}' mixes commits {', '.join(commits)} "
                             f"({', '.join(os.path.relpath(u, self.root) for u in measured)})")
        if len(devices) > 1:
            raise PaperError(f"table '{name}' mixes devices {', '.join(devices)}")

    def value(self, ref):
        parts = ref.split(".", 2)  # a column may hold dots (a policy's name)
        if len(parts) != 3:
            raise PaperError(f"'{{{{{ref}}}}}': expected table.row.column")
        name, row, col = parts
        _, table = self.get(name)
        cols = list(table[0])
        if row == "*":
            raise PaperError(f"'{{{{{ref}}}}}': a row of '*' needs min: or max:")
        match = [r for r in table if str(r[cols[0]]) == row]
        if not match:
            raise PaperError(f"'{{{{{ref}}}}}': table '{name}' has no row {row} (rows: "
                             f"{', '.join(str(r[cols[0]]) for r in table)})")
        if col not in match[0] or match[0][col] is None:
            raise PaperError(f"'{{{{{ref}}}}}': table '{name}' has no value in column {col} (columns: {', '.join(cols)})")
        return match[0][col]

    def column(self, ref):
        name, row, col = (ref.split(".", 2) + ["", "", ""])[:3]
        _, table = self.get(name)
        vals = [r.get(col) for r in table if row in ("*", str(r[list(r)[0]]))]
        vals = [v for v in vals if isinstance(v, (int, float))]
        if not vals:
            raise PaperError(f"'{ref}': table '{name}' has no numbers in column {col}")
        return vals


def _markdown_table(table):
    cols = list(table[0])
    out = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for r in table:
        out.append("| " + " | ".join("" if r.get(c) is None else _fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(out)


def lint(text):
    """Measured numbers typed into the text (outside placeholders): [(line, text)]."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        bare = PLACEHOLDER.sub("", line)
        for m in TYPED_NUMBER.finditer(bare):
            found.append((n, m.group(0)))
    return found


def render(draft_text, tables, figure_dir_rel="figures"):
    """(the filled Markdown, the tables used, the figures used)."""
    typed = lint(draft_text)
    if typed:
        raise PaperError("the draft types measured numbers instead of quoting results: " +
                         "; ".join(f"line {n}: '{t}'" for n, t in typed))
    used_tables, used_figures = [], []

    def fill(m):
        ref = m.group(1)
        if ref == "provenance":
            return "\x00provenance\x00"
        kind, _, arg = ref.partition(":")
        if arg and kind in ("min", "max"):
            used_tables.append(arg.split(".")[0])
            vals = tables.column(arg)
            return _fmt(float(min(vals) if kind == "min" else max(vals)))
        if arg and kind == "table":
            used_tables.append(arg)
            return _markdown_table(tables.get(arg)[1])
        if arg and kind == "figure":
            used_tables.append(arg)
            used_figures.append(arg)
            return f"![{arg}]({figure_dir_rel}/{arg}.png)"
        used_tables.append(ref.split(".")[0])
        return _fmt(tables.value(ref))

    text = PLACEHOLDER.sub(fill, draft_text)
    used = list(dict.fromkeys(used_tables))
    for name in used:
        tables.check_provenance(name)
    lines = ["| table | results files | commits | devices |", "| --- | --- | --- | --- |"]
    for name in used:
        files = tables.get(name)[0]
        lines.append(f"| {name} | {', '.join(f'`{os.path.relpath(f, tables.root)}`' for f in files)} | "
                     f"{', '.join(figures._commits(files))} | {', '.join(figures.devices(files)) or 'not recorded'} |")
    text = text.replace("\x00provenance\x00", "\n".join(lines))
    return text, used, list(dict.fromkeys(used_figures))


def build(results, out, draft, check_only=False):
    """Builds the paper into `out`; returns {"seconds", "tables", "figures"}. PaperError says what is wrong."""
    start = time.perf_counter()
    with open(draft, encoding="utf-8") as f:
        text, used, figs = render(f.read(), Tables(results))
    if check_only:
        return {"seconds": time.perf_counter() - start, "tables": used, "figures": figs}
    os.makedirs(out, exist_ok=True)
    fig_dir = os.path.join(out, "figures")
    if os.path.isdir(fig_dir):
        shutil.rmtree(fig_dir)
    made, skipped = figures.make(results, fig_dir, figs)
    if skipped:
        raise PaperError("figures not made: " + "; ".join(skipped.values()))
    with open(os.path.join(out, "paper.md"), "w", encoding="utf-8") as f:
        f.write(text)
    try:
        import markdown
    except ImportError as e:
        raise PaperError("the HTML needs the markdown package: pip install 'vibetensor[paper]'") from e
    body = markdown.markdown(text, extensions=["tables"])
    with open(os.path.join(out, "paper.html"), "w", encoding="utf-8") as f:
        f.write("<!doctype html><meta charset='utf-8'><title>vibetensor</title>"
                "<style>body{max-width:60em;margin:auto;font-family:sans-serif}table{border-collapse:collapse}"
                "td,th{border:1px solid #999;padding:2px 6px}img{max-width:100%}</style>\n" + body)
    return {"seconds": time.perf_counter() - start, "tables": used, "figures": list(made)}


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(prog="vibetensor-paper", description=__doc__.splitlines()[0])
    p.add_argument("--results", default=os.path.join("experiments", "results"), help="(run from the repository root)")
    p.add_argument("--out", default=os.path.join("paper", "build"))
    p.add_argument("--draft", default=os.path.join(here, "draft.md"))
    p.add_argument("--check", action="store_true", help="only check that the draft builds from the results")
    a = p.parse_args(argv)
    if not glob.glob(os.path.join(a.results, "*")):
        print(f"vibetensor-paper: no results under {a.results} (run from the repository root, or pass --results)")
        return 1
    try:
        r = build(a.results, a.out, a.draft, a.check)
    except PaperError as e:
        print(f"vibetensor-paper: {e}")
        return 1
    what = "checked" if a.check else f"built {os.path.join(a.out, 'paper.md')} and paper.html"
    print(f"vibetensor-paper: {what} from {len(r['tables'])} table(s) and {len(r['figures'])} figure(s) "
          f"in {r['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
