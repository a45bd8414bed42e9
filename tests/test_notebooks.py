"""The notebooks run top to bottom on the CPU (their code cells executed in order, as Jupyter would)."""
import glob
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(ROOT)
    nb = json.load(open(path))
    ns = {"__name__": "__main__"}
    last = None
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        src = "".join(cell["source"])
        try:
            exec(compile(src, f"{os.path.basename(path)}[cell {i}]", "exec"), ns)
        except Exception as e:  # noqa: BLE001 (report which cell)
            pytest.fail(f"{os.path.basename(path)} cell {i} raised {type(e).__name__}: {e}\n{src}")
        last = src
    assert last is not None
    if os.path.basename(path) != "results_and_probes.ipynb":
        return
    assert len(ns["reports"]) >= 4 and ns["summary"]["explained"].notna().all()
    assert ns["counters"].loc["name_lookups", "vibe"] > ns["counters"].loc["name_lookups", "tuned"]
    assert len(ns["t"].summary()) == 2
