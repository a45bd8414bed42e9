"""The notebooks, executed by a Jupyter kernel (nbclient, the engine of `jupyter nbconvert --execute` and
papermill) from notebooks/ as Jupyter opens them, with their outputs checked: each runs top to bottom without
an error output, and a check cell appended to it (run in the same kernel) asserts what its tables show. A
notebook pointed at an empty results folder stops in its first cell with a clear message."""
import glob
import os
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("pandas")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))

# Run in the notebook's kernel after its own cells: what each notebook must have shown.
CHECKS = {
    "results_and_probes.ipynb": """
assert len(reports) >= 4 and summary["explained"].notna().all()
assert counters.loc["name_lookups", "vibe"] > counters.loc["name_lookups", "tuned"]
assert len(t.summary()) == 2
""",
    "trace_analysis.ipynb": """
assert len(overview) >= 1 and (overview["kernels"] > 0).all() and "tuned" in set(overview["preset"])
assert temporal is not None and (temporal["compute_time_pctg"] > 0).all()
assert by_category.loc["op"].gt(0).all() and all(len(t) > 0 for t in by_op.values())
assert len(profiles) >= 3 and ((host_share.sum() - 1).abs() < 0.01).all()
assert host_share.loc["vibetensor C++", [n for n in host_share.columns if "vibetensor" in n]].gt(0).all()
assert all(len(t) > 0 and t["self share"].le(t["total share"]).all() for t in top_functions.values())
""",
    "policy_exploration.ipynb": """
assert list(table.index) == ["tuned", flipped_name] and (table["ratio"] > 0).all()
assert table.loc[flipped_name, "name lookups/step"] > 0 and table.loc["tuned", "name lookups/step"] == 0
assert described.loc["dispatch.lookup", "value"] in ("handle", "locked_map")
""",
}


def _execute(path, extra_cells=()):
    nb = nbformat.read(path, as_version=4)
    for src in extra_cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def test_there_are_notebooks():
    assert {os.path.basename(p) for p in NOTEBOOKS} == set(CHECKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_in_a_kernel(path, monkeypatch):
    monkeypatch.delenv("VT_RESULTS", raising=False)
    name = os.path.basename(path)
    nb, seconds = _execute(path, [CHECKS[name] + "\nprint('CHECKS OK')"])
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    assert "CHECKS OK" in "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    print(f"{name}: executed in {seconds:.1f} s")


def test_an_empty_results_folder_stops_in_the_first_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("VT_RESULTS", str(tmp_path))
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="no results under"):
        _execute(os.path.join(ROOT, "notebooks", "results_and_probes.ipynb"))


def test_the_trace_notebook_pointed_at_an_empty_folder_stops_in_its_first_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("VT_TRACES", str(tmp_path))
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="no traces"):
        _execute(os.path.join(ROOT, "notebooks", "trace_analysis.ipynb"))
