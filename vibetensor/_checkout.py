"""Running from a source checkout: the top-level folders the wheel ships under the vibetensor
namespace are imported as its subpackages, and nothing else of the checkout is (Note [Checkout subpackages])."""
import importlib.abc
import importlib.util
import os
import sys

# Note [Checkout subpackages]
# The wheel maps kernels/, probes/, experiments/ and paper/ to vibetensor.kernels, .probes,
# .experiments and .paper (pyproject.toml's wheel.packages). A checkout with _C built in place (the
# GPU machine runs `python -m vibetensor.experiments.cli run ...` so) must import the same names.
# Appending the checkout root to vibetensor.__path__ did that, but also made every other folder a
# subpackage (vibetensor.tests, vibetensor.scripts). A finder that answers only for the shipped
# folders keeps the checkout and the wheel alike; tests/test_checkout_packages.py holds SHIPPED to pyproject.
SHIPPED = ("kernels", "probes", "experiments", "paper")


class ShippedFolderFinder(importlib.abc.MetaPathFinder):
    """Finds vibetensor.<name> for each name in SHIPPED at <root>/<name>, for the vibetensor package of <root> only."""

    def __init__(self, root: str):
        self.root = root
        self.package_dir = os.path.realpath(os.path.join(root, "vibetensor"))

    def find_spec(self, fullname, path=None, target=None):
        parent, _, name = fullname.rpartition(".")
        # A package imported as <root>/benchmarks/../vibetensor has that spelling in its __path__.
        if parent != "vibetensor" or name not in SHIPPED or not any(
                os.path.realpath(p) == self.package_dir for p in (path or ())):
            return None
        folder = os.path.join(self.root, name)
        return importlib.util.spec_from_file_location(fullname, os.path.join(folder, "__init__.py"),
                                                      submodule_search_locations=[folder])


def install(package_file: str) -> None:
    """Installs the finder when the vibetensor package at `package_file` sits in a source checkout."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(package_file)))
    if not (os.path.exists(os.path.join(root, "CMakeLists.txt")) and os.path.isdir(os.path.join(root, "experiments"))):
        return
    if not any(isinstance(f, ShippedFolderFinder) and f.root == root for f in sys.meta_path):
        sys.meta_path.insert(0, ShippedFolderFinder(root))
