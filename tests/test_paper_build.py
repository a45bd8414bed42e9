"""vibetensor-paper (paper/build.py): the draft filled from recorded results, and each way the build refuses
(a placeholder the results do not give, a typed number, missing results, mixed commits or devices), on the repository's
own results and on small results trees."""
import os

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("markdown")
from vibetensor.paper import build  # noqa: E402

from test_paper_figures import _cell, _results_tree, _write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _draft(tmp_path, text):
    path = tmp_path / "draft.md"
    path.write_text(text)
    return str(path)


def test_the_repository_draft_builds_from_its_results(tmp_path):
    out = tmp_path / "paper"
    r = build.build(os.path.join(ROOT, "experiments", "results"), str(out), os.path.join(ROOT, "paper", "draft.md"))
    text = (out / "paper.md").read_text()
    assert "{{" not in text and "gap" in r["tables"] and "reference" in r["tables"]
    assert "`h100/b652fd8/h100.jsonl`" in text and "vibetensor_reference/paper_2601.16238.json" in text
    assert (out / "paper.html").read_text().count("<table>") >= 3
    assert all((out / "figures" / f"{f}.png").exists() for f in r["figures"])


def test_values_tables_and_provenance_are_filled(tmp_path):
    results = str(tmp_path / "results")
    _results_tree(results)
    draft = _draft(tmp_path, "vibe {{gap.seq_reverse.vibe}}x, band {{min:gap.*.tuned}}x-{{max:gap.*.vibe}}x\n\n"
                             "{{table:contention}}\n\n{{figure:gap}}\n\n{{provenance}}\n")
    build.build(results, str(tmp_path / "out"), draft)
    text = (tmp_path / "out" / "paper.md").read_text()
    assert text.startswith("vibe 2.00x, band 0.50x-2.00x")
    assert "| 4 | 400 | 150 | 2.67 | 900 |" in text and "![gap](figures/gap.png)" in text
    assert "| gap | `h100/abc/h100.jsonl`, `vibetensor_reference/paper_x.json` | abc1234, paper | not recorded |" in text


def test_a_column_name_may_hold_dots(tmp_path):
    """A policy's name is a column of the attribution tables: everything after the row names the column."""
    results = str(tmp_path / "results")
    _results_tree(results)
    build.build(results, str(tmp_path / "out"), _draft(tmp_path, "share {{attribution_suite.seq_reverse.scalars.cuda}}\n"))
    assert (tmp_path / "out" / "paper.md").read_text().startswith("share 0.53")


@pytest.mark.parametrize("text,message", [
    ("{{gap.minigpt.vibe}}", "table 'gap' has no row minigpt"),
    ("{{gap.seq_reverse.fast}}", "has no value in column fast"),
    ("{{nope.a.b}}", "no table named 'nope'"),
    ("{{gap.seq_reverse}}", "expected table.row.column"),
    ("runs 1.5x slower, 12 ms a step", "line 1: '1.5x'; line 1: '12 ms'"),
])
def test_a_draft_the_results_do_not_support_is_refused(tmp_path, text, message):
    results = str(tmp_path / "results")
    _results_tree(results)
    with pytest.raises(build.PaperError, match=message):
        build.build(results, str(tmp_path / "out"), _draft(tmp_path, text), check_only=True)


def test_missing_results_and_mixed_commits_are_refused(tmp_path):
    results = str(tmp_path / "results")
    _results_tree(results)
    os.remove(os.path.join(results, "chain_backward_cpu", "c.json"))
    with pytest.raises(build.PaperError, match="table 'chain_backward' has no results"):
        build.build(results, str(tmp_path / "out"), _draft(tmp_path, "{{table:chain_backward}}"), check_only=True)
    _write(results, "h100/abc/h100.jsonl", [_cell("torch", None, {}, 10.0), _cell("vibetensor", "tuned", {}, 5.0),
                                            _cell("vibetensor", "vibe", {}, 20.0, git_commit="fff0000")])
    with pytest.raises(build.PaperError, match="table 'gap' mixes commits abc1234, fff0000"):
        build.build(results, str(tmp_path / "out"), _draft(tmp_path, "{{gap.seq_reverse.vibe}}"), check_only=True)


def test_mixed_devices_are_refused(tmp_path):
    results = str(tmp_path / "results")
    _results_tree(results)
    _write(results, "h100/abc/h100.jsonl", [_cell("torch", None, {}, 10.0, device_name="NVIDIA H100 80GB HBM3"),
                                            _cell("vibetensor", "tuned", {}, 5.0, device_name="NVIDIA H100 80GB HBM3"),
                                            _cell("vibetensor", "vibe", {}, 20.0, device_name="NVIDIA H200")])
    with pytest.raises(build.PaperError, match="table 'gap' mixes devices NVIDIA H100 80GB HBM3, NVIDIA H200"):
        build.build(results, str(tmp_path / "out"), _draft(tmp_path, "{{gap.seq_reverse.vibe}}"), check_only=True)


def test_the_command_says_what_is_wrong(tmp_path, capsys):
    assert build.main(["--results", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 1
    assert "no results under" in capsys.readouterr().out
    results = str(tmp_path / "results")
    _results_tree(results)
    assert build.main(["--results", results, "--draft", _draft(tmp_path, "{{gap.seq_reverse.vibe}}"), "--check"]) == 0
    assert "checked" in capsys.readouterr().out and not os.path.exists(tmp_path / "o")
