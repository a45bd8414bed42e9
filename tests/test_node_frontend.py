"""The Node.js frontend (node/, Note [Node frontend] in csrc/node/addon.cpp), run by the README's test command:
the addon is built with the project's CMake (node/build.js; Node-API headers from node or, on the first run,
from the npm registry) against this environment's Python build tools, then its `node --test` suite runs
(tensors and TypedArrays, ops by schema, autograd, async ops and their cap, policies, probes, CUDA or its
error, the softmax-regression example). Skipped where node is not installed."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(not NODE, reason="node is not installed")


@pytest.fixture(scope="module")
def addon():
    env = dict(os.environ, VT_PY=sys.executable)
    r = subprocess.run([NODE, os.path.join(ROOT, "node", "build.js")], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=2400)
    assert r.returncode == 0, f"building the Node.js addon failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout.strip().splitlines()[-1]


def test_node_test_suite_passes(addon, tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "examples", "plugin"))
    import build as example_build  # the example plugin, for the suite's plugin test (VT_TEST_PLUGIN)

    plugin = example_build.build(str(tmp_path / "myplug"))
    r = subprocess.run([NODE, "--test", "test/"], cwd=os.path.join(ROOT, "node"), capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, VT_TEST_PLUGIN=plugin))
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout and "# pass " in r.stdout and "# skipped 0" in r.stdout, r.stdout[-3000:]
