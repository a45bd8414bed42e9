"""Imports and includes point down the layer drawing (scripts/check_layers.py, Note [Layer drawing])."""
import importlib.util
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANG = "all"

# No known exceptions: every include and import follows the drawing.
KNOWN = set()


def _checker():
    spec = importlib.util.spec_from_file_location("check_layers", os.path.join(ROOT, "scripts", "check_layers.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_arrow_runs_up_the_drawing():
    arrows = _checker().upward_arrows(ROOT, LANG)
    assert [a for a in arrows if (a.where.split(":")[0], a.dst) not in KNOWN] == []


def test_import_vibetensor_leaves_the_layers_above_it_unimported(tmp_path):
    # A fresh interpreter: this test session has imported the probes already.
    code = ("import sys, vibetensor as vt\n"
            "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in ('kernels', 'probes', 'experiments', 'paper')"
            " and m.startswith('vibetensor.')), hasattr(vt, 'probes'))\n"
            "import vibetensor.probes\n"
            "print(vt.probes.locks().columns[0])\n")
    p = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["[] False", "name"]


def _write(root, path, text):
    path = os.path.join(root, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_checker_reports_each_kind_of_arrow(tmp_path):
    root = str(tmp_path)
    _write(root, "vibetensor/optim/sgd.py", "import numpy\nfrom vibetensor import _C\n\n\ndef step():\n"
                                            "    from vibetensor.kernels import triton_ops\n")
    _write(root, "experiments/cli.py", "from ..paper import figures\nfrom . import analysis\n")
    _write(root, "paper/figures.py", "from vibetensor.experiments import analysis\n"
                                     "from vibetensor.experiments.analysis import read\n"
                                     "import vibetensor.experiments.runner\n")
    notebook = {"cells": [{"cell_type": "markdown", "source": ["import vibetensor.experiments.cli"]},
                          {"cell_type": "code", "source": ["%matplotlib inline\n", "from vibetensor.experiments import cli"]}]}
    _write(root, "notebooks/n.ipynb", json.dumps(notebook))
    _write(root, "csrc/core/tensor.h", '#include "ops/op.h"\n#include <vector>\n#include "nvtx3/nvToolsExt.h"\n')
    _write(root, "csrc/ops/op.h", '#include "core/tensor.h"\n#include "op_util.h"\n')
    _write(root, "csrc/ops/op_util.h", "")
    _write(root, "csrc/cuda/graph/capture.cpp", '#include "alloc/pool.h"\n')
    _write(root, "csrc/alloc/pool.h", '#include "cuda/graph/capture.h"\n')
    _write(root, "csrc/cuda/graph/capture.h", "")
    _write(root, "csrc/misc/extra.h", '#include "core/tensor.h"\n')
    found = {(a.where, a.src, a.dst, a.why) for a in _checker().upward_arrows(root, "all")}
    assert found == {
        ("vibetensor/optim/sgd.py:6", "vibetensor", "kernels", "up"),
        ("experiments/cli.py:1", "experiments", "paper/notebooks", "up"),
        ("paper/figures.py:3", "paper/notebooks", "experiments", "past vibetensor.experiments.analysis"),
        ("notebooks/n.ipynb:code cell 1, line 2", "paper/notebooks", "experiments",
         "past vibetensor.experiments.analysis"),
        ("csrc/core/tensor.h:1", "csrc/core", "csrc/ops", "up"),
        ("csrc/alloc/pool.h:1", "csrc/alloc", "csrc/cuda/graph", "up"),
        ("csrc/misc/extra.h:1", "csrc/?", "csrc/core", "off the drawing"),
    }
