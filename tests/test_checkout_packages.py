"""A source checkout imports the folders the wheel ships as vibetensor subpackages, and only those
(Note [Checkout subpackages] in vibetensor/_checkout.py)."""
import glob
import os
import subprocess
import sys

import pytest

import vibetensor
from vibetensor import _checkout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shipped_folders_are_the_wheels_subpackages():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        packages = dict(tomllib.load(f)["tool"]["scikit-build"]["wheel"]["packages"])
    assert packages.pop("vibetensor") == "vibetensor"
    assert packages == {f"vibetensor/{name}": name for name in _checkout.SHIPPED}


def _checkout_with_built_module(tmp_path) -> str:
    """A checkout of links to this one's files, with the built _C of the vibetensor under test in place."""
    for name in ("CMakeLists.txt", "tests", "scripts", *_checkout.SHIPPED):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    package = tmp_path / "vibetensor"
    package.mkdir()
    for name in os.listdir(os.path.join(ROOT, "vibetensor")):
        if name != "__pycache__":
            os.symlink(os.path.join(ROOT, "vibetensor", name), package / name)
    for built in glob.glob(os.path.join(os.path.dirname(vibetensor._C.__file__), "_C*")):
        if not (package / os.path.basename(built)).exists():
            os.symlink(built, package / os.path.basename(built))
    return str(tmp_path)


def _run(checkout, *args):
    return subprocess.run([sys.executable, "-P", *args], cwd=checkout, env={**os.environ, "PYTHONPATH": checkout},
                          capture_output=True, text=True, timeout=300)


IMPORTS = """
import importlib
import vibetensor
import vibetensor.experiments.analysis, vibetensor.kernels.cache, vibetensor.paper.figures, vibetensor.probes.trace
print(vibetensor.__file__, vibetensor.experiments.analysis.__file__, vibetensor.paper.__file__)
for name in ("tests", "scripts"):
    try:
        importlib.import_module("vibetensor." + name)
        print("imported vibetensor." + name)
    except ModuleNotFoundError:
        print("no vibetensor." + name)
"""


def test_checkout_maps_the_shipped_folders_only(tmp_path):
    checkout = _checkout_with_built_module(tmp_path)
    p = _run(checkout, "-c", IMPORTS)
    assert p.returncode == 0, p.stderr
    paths, *imports = p.stdout.splitlines()
    assert paths.split() == [os.path.join(checkout, "vibetensor", "__init__.py"),
                             os.path.join(checkout, "experiments", "analysis", "__init__.py"),
                             os.path.join(checkout, "paper", "__init__.py")]
    assert imports == ["no vibetensor.tests", "no vibetensor.scripts"]


def test_checkout_runs_the_experiments_cli_as_a_module(tmp_path):
    # as scripts/gpu_session.sh does on the GPU machine: python -m vibetensor.experiments.cli ...
    p = _run(_checkout_with_built_module(tmp_path), "-m", "vibetensor.experiments.cli", "--help")
    assert p.returncode == 0, p.stderr
    assert "{run,compare,policies,ablate,train}" in p.stdout


def test_checkout_maps_the_shipped_folders_through_a_dotted_path(tmp_path):
    # benchmarks/*.py put "<root>/benchmarks/.." on sys.path: vibetensor.__path__ then has that spelling
    checkout = _checkout_with_built_module(tmp_path)
    p = subprocess.run([sys.executable, "-P", "-c", "import vibetensor.kernels as k; print(k.__file__)"],
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.path.join(checkout, "benchmarks", "..")},
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert os.path.realpath(p.stdout.strip()) == os.path.realpath(os.path.join(checkout, "kernels", "__init__.py"))
