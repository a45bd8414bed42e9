"""vt.policy (set/get/override/presets/describe/load_config/VT_POLICY) and vt.probes."""
import os
import pathlib
import re
import subprocess
import tempfile
import sys
import textwrap
import threading

import pandas as pd
import pytest

import vibetensor as vt
import vibetensor.probes  # noqa: F401 (vt.probes)



def test_current_get_and_defaults():
    cur = vt.policy.current()
    assert list(cur)[:3] == ["dispatch.lookup", "dispatch.stack_copy", "autograd.gate"]
    assert cur["autograd.gate"] == "per_graph" and vt.policy.get("autograd.gil") == "released"
    assert set(vt.policy.presets()) >= {"tuned", "vibe"}
    assert vt.policy.presets()["vibe"]["autograd.gate"] == "global"


def test_set_forms():
    vt.policy.set("autograd.gate", "global")
    assert vt.policy.get("autograd.gate") == "global"
    vt.policy.set({"autograd.gate": "none", "autograd.gil": "held"})
    assert vt.policy.get("autograd.gate") == "none" and vt.policy.get("autograd.gil") == "held"
    vt.policy.set("autograd.gate=per_graph, autograd.gil=released")
    assert vt.policy.get("autograd.gate") == "per_graph" and vt.policy.get("autograd.gil") == "released"
    vt.policy.set(**{"kernels.cache": "locked"})
    assert vt.policy.get("kernels.cache") == "locked"
    vt.policy.set("preset=vibe,autograd.gate=per_graph")  # applied in order
    assert vt.policy.get("dispatch.lookup") == "locked_map" and vt.policy.get("autograd.gate") == "per_graph"
    vt.policy.apply_preset("tuned")
    assert all(vt.policy.get(k) == v for k, v in vt.policy.presets()["tuned"].items())


def test_errors_name_the_bad_value_and_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown policy 'autograd.gat'.*'autograd.gate'"):
        vt.policy.set("autograd.gat", "global")
    with pytest.raises(ValueError, match="policy 'autograd.gate' has no value 'glob': expected one of 'per_graph', "
                                         "'none', 'global'"):
        vt.policy.set("autograd.gate", "glob")
    with pytest.raises(ValueError, match="unknown preset 'fast': expected one of 'tuned', 'vibe'"):
        vt.policy.apply_preset("fast")
    with pytest.raises(ValueError, match="malformed policy spec item 'autograd.gate'"):
        vt.policy.set("autograd.gate")
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        vt.policy.get("nope")
    with pytest.raises(TypeError, match="strings"):
        vt.policy.set("autograd.gate", 1)
    # A bad item changes nothing, even when earlier items were valid.
    with pytest.raises(ValueError):
        vt.policy.set({"autograd.gil": "held", "autograd.gate": "bad"})
    assert vt.policy.get("autograd.gil") == "released"


def test_validate_and_apply_spec():
    vt.policy.validate({"autograd.gate": "global", "preset": "vibe"})
    vt.policy.validate("autograd.gil=held")
    assert vt.policy.get("autograd.gate") == "per_graph"  # validate changes nothing
    with pytest.raises(ValueError, match="has no value 'x'"):
        vt.policy.validate({"autograd.gate": "x"})
    vt.policy.apply_spec("preset=vibe,autograd.gil=released")
    assert vt.policy.get("autograd.gate") == "global" and vt.policy.get("autograd.gil") == "released"
    with pytest.raises(TypeError, match="string"):
        vt.policy.apply_spec({"autograd.gil": "held"})


def test_override_restores_previous_values():
    with vt.policy.override({"autograd.gate": "global"}, **{"autograd.gil": "held"}):
        assert vt.policy.get("autograd.gate") == "global" and vt.policy.get("autograd.gil") == "held"
    assert vt.policy.get("autograd.gate") == "per_graph" and vt.policy.get("autograd.gil") == "released"
    with vt.policy.override("preset=vibe"):
        assert vt.policy.current()["dispatch.stack_copy"] == "on"
    assert vt.policy.current()["dispatch.stack_copy"] == "off"
    with pytest.raises(RuntimeError, match="boom"):
        with vt.policy.override("autograd.workers", "spawn"):
            raise RuntimeError("boom")
    assert vt.policy.get("autograd.workers") == "caller"
    with pytest.raises(ValueError, match="has no value"):
        with vt.policy.override("autograd.workers", "many"):
            pass


def test_policies_change_behaviour_but_not_results():
    x = vt.ones(3, requires_grad=True)
    for preset in ("vibe", "tuned"):
        with vt.policy.override(preset=preset):
            x.grad = None
            (x * x).backward(vt.ones(3))
            assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_describe_dataframe():
    df = vt.policy.describe()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns)[:7] == ["name", "value", "default", "values", "description", "mirrors",
                                    "fixed_after_first_use"]
    assert list(df["name"]) == list(vt.policy.current())
    row = df[df["name"] == "autograd.gate"].iloc[0]
    assert row["values"] == "per_graph, none, global" and row["default"] == "per_graph"
    assert bool(df[df["name"] == "alloc.cuda"].iloc[0]["fixed_after_first_use"])
    with vt.policy.override({"autograd.gate": "global"}):
        text = str(vt.policy.describe())
    assert "autograd.gate" in text and "= global  (default per_graph)" in text
    assert "mirrors: VibeTensor's process-wide backward gate" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_catalogue_where_names_a_file_and_a_note_that_exist():
    """The catalogue is the map of the mechanisms: every row's file exists in the repository and
    defines the Note the row names (a `// Note [Title]` or `# Note [Title]` line)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    df = vt.policy.describe()
    assert list(df["name"]) == list(vt.policy.current())
    for name, where in zip(df["name"], df["where"]):
        m = re.fullmatch(r"(\S+), Note \[(.+)\]", where)
        assert m, f"{name}: where = {where!r} is not 'file, Note [Title]'"
        path, note = root / m[1], m[2]
        assert path.is_file(), f"{name}: {m[1]} does not exist"
        defines = re.compile(rf"^\s*(//|#)\s*Note \[{re.escape(note)}\](:|\s*$)", re.MULTILINE)
        assert defines.search(path.read_text()), f"{name}: {m[1]} has no Note [{note}]"
    with vt.policy.override({"autograd.gate": "global"}):
        text = str(vt.policy.describe())
    assert "where: csrc/autograd/engine.cpp, Note [Backward engine]" in text


def test_presets_come_from_the_catalogue_rows():
    values = {r["name"]: r["values"] for r in vt._C._policy_describe()}
    mechanisms = [name for name in values if not name.startswith("probes.")]
    tuned, vibe = vt.policy.presets()["tuned"], vt.policy.presets()["vibe"]
    assert tuned == {name: values[name][0] for name in mechanisms}
    assert set(vibe) <= set(mechanisms) and all(vibe[name] in values[name] for name in vibe)
    assert vibe["dispatch.lookup"] == "locked_map" and "checks.cuda_index" not in vibe


def test_set_crosses_into_cpp_once(monkeypatch):
    calls = []

    class Counting:
        def __getattr__(self, name):
            attr = getattr(vt._C, name)
            return (lambda *a, **k: calls.append(name) or attr(*a, **k)) if name.startswith("_policy") else attr

    monkeypatch.setattr(vt.policy, "_C", Counting())
    vt.policy.set("autograd.gate", "global")
    vt.policy.set("preset=vibe,autograd.gate=per_graph", **{"autograd.gil": "released"})
    with pytest.raises(ValueError, match="policy 'autograd.gate' has no value 'x'"):
        vt.policy.set({"autograd.gil": "held", "autograd.gate": "x"})
    assert calls == ["_policy_apply"] * 3
    monkeypatch.undo()
    assert vt.policy.get("autograd.gil") == "released" and vt.policy.get("dispatch.lookup") == "locked_map"


# --- load_config ----------------------------------------------------------------------------

def _write(tmp_path, text, name="cfg.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_load_config_applies_preset_first(tmp_path):
    p = _write(tmp_path, """
        [model]
        width = 3
        [policy]
        "autograd.gate" = "per_graph"
        preset = "vibe"
        kernels.cache = "lockfree"
    """)
    applied = vt.policy.load_config(p)
    assert applied["preset"] == "vibe"
    cur = vt.policy.current()
    assert cur["autograd.gate"] == "per_graph"  # the item wins over the preset, whatever the order in the file
    assert cur["kernels.cache"] == "lockfree" and cur["dispatch.lookup"] == "locked_map"


@pytest.mark.parametrize("text, message", [
    ('[policy]\n"autograd.gate" = "fast"\n', r"has no value 'fast': expected one of 'per_graph', 'none', 'global'"),
    ('[policy]\n"autograd.gat" = "none"\n', r"unknown policy 'autograd.gat'"),
    ('[policy]\npreset = "quick"\n', r"unknown preset 'quick'"),
    ('[policy]\n"autograd.gate" = 3\n', r"value of 'autograd.gate' must be a string"),
    ('[policy\n"autograd.gate" = "none"\n', r"malformed TOML"),
    ('[other]\nx = 1\n', r"has no \[policy\] table"),
])
def test_load_config_errors_name_the_file(tmp_path, text, message):
    p = _write(tmp_path, text)
    before = vt.policy.current()
    with pytest.raises(ValueError, match=message) as e:
        vt.policy.load_config(p)
    assert str(p) in str(e.value)
    assert vt.policy.current() == before


def test_load_config_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        vt.policy.load_config(tmp_path / "nope.toml")


# --- VT_POLICY at import --------------------------------------------------------------------

def _run_python(code, **env):
    """Runs code in a fresh interpreter that imports the same vibetensor as this process
    (installed or in-tree), from a neutral working directory."""
    where = os.path.dirname(os.path.dirname(os.path.abspath(vt.__file__)))
    return subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=where, **env),
                          capture_output=True, text=True, timeout=120, cwd=tempfile.gettempdir())


def _import_with(spec):
    code = "import vibetensor as vt; print(vt.policy.get('autograd.gate'), vt.policy.get('dispatch.lookup'))"
    return _run_python(code, VT_POLICY=spec)


def test_vt_policy_environment_variable():
    r = _import_with("preset=vibe,autograd.gate=per_graph")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["per_graph", "locked_map"]


@pytest.mark.parametrize("spec, message", [
    ("autograd.gate=fast", "has no value 'fast'"),
    ("preset=quick", "unknown preset 'quick'"),
    ("autograd.gate", "malformed policy spec item"),
    ("nope=1", "unknown policy 'nope'"),
])
def test_invalid_vt_policy_fails_the_import(spec, message):
    r = _import_with(spec)
    assert r.returncode != 0
    assert "invalid VT_POLICY=" in r.stderr and message in r.stderr


def test_import_is_light():
    code = "import sys, vibetensor; print('torch' in sys.modules, 'pandas' in sys.modules)"
    r = _run_python(code)
    assert r.stdout.split() == ["False", "False"], r.stderr


# --- probes ---------------------------------------------------------------------------------

def test_counters_and_snapshot_diff():
    assert list(vt.probes.counters().columns) == ["name", "value"]
    with vt.policy.override({"probes.counters": "on"}):
        vt.probes.reset_counters()
        before = vt.probes.snapshot()
        x = vt.ones(3, requires_grad=True)
        (x * 2 + 1).backward(vt.ones(3))
        after = vt.probes.snapshot()
    d = vt.probes.diff(before, after)
    counts = dict(zip(d.counters["name"], d.counters["value"]))
    assert counts["ops_dispatched"] > 0 and counts["backward_calls"] == 1
    assert d.elapsed_ns > 0
    df = vt.probes.counters()
    assert df.set_index("name")["value"]["backward_calls"] >= 1
    vt.probes.reset_counters()
    assert vt.probes.counters()["value"].sum() == 0
    with pytest.raises(TypeError, match="snapshot"):
        vt.probes.diff({}, after)


def test_lock_stats():
    cols = ["name", "acquisitions", "contentions", "wait_total_ns", "wait_max_ns", "hold_total_ns", "hold_max_ns",
            "wait_avg_ns", "hold_avg_ns"]
    assert list(vt.probes.locks().columns) == cols
    with vt.policy.override({"probes.locks": "on", "autograd.gate": "global"}):
        vt.probes.reset_locks()
        before = vt.probes.snapshot()

        def work():
            for _ in range(20):
                x = vt.ones(8, requires_grad=True)
                (x * x).backward(vt.ones(8))

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = vt.probes.snapshot()
        locks = vt.probes.locks()
    gate = locks[locks["name"] == "autograd.gate.global"].iloc[0]
    assert gate["acquisitions"] == 40 and gate["hold_total_ns"] > 0
    assert gate["hold_avg_ns"] == pytest.approx(gate["hold_total_ns"] / gate["acquisitions"])
    d = vt.probes.diff(before, after).locks
    assert d[d["name"] == "autograd.gate.global"].iloc[0]["acquisitions"] == 40
    vt.probes.reset_locks()
