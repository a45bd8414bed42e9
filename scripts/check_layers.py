"""Arrows that run up the layer drawing of the architecture brief (imports and includes only point down).

    python scripts/check_layers.py [--lang py|cpp|all] [--root CHECKOUT]

Reads every `#include "..."` in csrc/ and every Python import (absolute, relative and function-local)
in vibetensor/, kernels/, probes/, experiments/, paper/ and notebooks/*.ipynb, maps both ends to
their layer, prints each arrow that points to a higher layer, reaches into experiments/ past its
results module, or joins a csrc file off the drawing (file:line, from -> to, why, the line), then a
count per pair of layers, and exits 1 when there is any. See Note [Layer drawing].

Note [Layer drawing]
The ranks below are the drawing of the architecture brief, lowest first. A file belongs to the
layer of the longest folder prefix of its path (csrc/cuda/graph before csrc/cuda); a module to the
layer of the folder it lives in, where kernels/, probes/, experiments/ and paper/ are imported as
vibetensor.kernels, .probes, .experiments and .paper. Layers of one rank (csrc/plugin, csrc/node)
may use each other. One rule is not about height: paper/ and notebooks/ read results through
experiments' one results module (EXPERIMENTS_SURFACE) and import nothing else from experiments/.
"""
import argparse
import ast
import collections
import json
import os
import re
import sys

CPP_LAYERS = {  # csrc folder -> rank
    "core": 0, "policy": 1, "probes": 2, "cuda": 3, "alloc": 4, "cuda/graph": 5, "dispatch": 6, "ops": 7,
    "autograd": 8, "plugin": 9, "node": 9, "python": 10,
}
PY_LAYERS = {"vibetensor": 0, "kernels": 1, "probes": 2, "experiments": 3, "paper": 4}  # paper: notebooks too
# Top-level folders that are subpackages of vibetensor (pyproject.toml's wheel.packages).
PY_SUBPACKAGES = ("kernels", "probes", "experiments", "paper")
EXPERIMENTS_SURFACE = "vibetensor.experiments.analysis"
CPP_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

# where: "path:line"; src, dst: layer names; why: "up", "off the drawing" or "past <surface>".
Arrow = collections.namedtuple("Arrow", "where src dst text why")


def _cpp_layer(rel: str):
    """The csrc layer of a path relative to csrc/, or None for one off the drawing."""
    best = None
    for folder in CPP_LAYERS:
        if (rel + "/").startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def cpp_arrows(root: str) -> list:
    csrc = os.path.join(root, "csrc")
    arrows = []
    for dirpath, _, files in sorted(os.walk(csrc)):
        for name in sorted(files):
            if not name.endswith(CPP_SUFFIXES):
                continue
            path = os.path.join(dirpath, name)
            src = _cpp_layer(os.path.relpath(path, csrc))
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    # As the preprocessor: beside the including file first, then the include root csrc/.
                    target = next((p for p in (os.path.join(dirpath, m.group(1)), os.path.join(csrc, m.group(1)))
                                   if os.path.isfile(p)), None)
                    if target is None or not os.path.realpath(target).startswith(os.path.realpath(csrc) + os.sep):
                        continue  # a header from outside csrc/ (NVTX, BLAS, CUDA)
                    dst = _cpp_layer(os.path.relpath(os.path.realpath(target), os.path.realpath(csrc)))
                    where = f"{os.path.relpath(path, root)}:{n}"
                    if src is None or dst is None:
                        arrows.append(Arrow(where, f"csrc/{src or '?'}", f"csrc/{dst or '?'}", line.strip(),
                                            "off the drawing"))
                    elif CPP_LAYERS[dst] > CPP_LAYERS[src]:
                        arrows.append(Arrow(where, f"csrc/{src}", f"csrc/{dst}", line.strip(), "up"))
    return arrows


def _module_name(rel: str) -> str:
    """vibetensor.x.y for vibetensor/x/y.py; vibetensor.kernels.a for kernels/a.py; packages without __init__."""
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts if parts[0] == "vibetensor" else ["vibetensor"] + parts)


def _py_layer(module: str):
    """The layer of a module name, or None for one outside the project (numpy, torch, the stdlib)."""
    parts = module.split(".")
    if parts[0] == "vibetensor":
        return parts[1] if len(parts) > 1 and parts[1] in PY_SUBPACKAGES else "vibetensor"
    return parts[0] if parts[0] in PY_SUBPACKAGES else None


def _imports(tree: ast.AST, module: str, is_package: bool):
    """(line, imported name, module it is read from) for every import in the tree, function-local ones too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:  # `from vibetensor import probes` imports the module vibetensor.probes
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}", base


def _py_sources(root: str):
    """(path relative to root, source text, line label) of every Python file and notebook on the drawing."""
    for top in ("vibetensor",) + PY_SUBPACKAGES:
        for dirpath, dirs, files in sorted(os.walk(os.path.join(root, top))):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    with open(path, encoding="utf-8") as f:
                        yield os.path.relpath(path, root), f.read(), None
    nb_dir = os.path.join(root, "notebooks")
    for name in sorted(os.listdir(nb_dir)) if os.path.isdir(nb_dir) else []:
        if name.endswith(".ipynb"):
            with open(os.path.join(nb_dir, name), encoding="utf-8") as f:
                cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
            for i, cell in enumerate(cells, 1):
                src = "".join(cell["source"])
                # IPython magics and shell lines are not Python; blank them, keeping the line numbers.
                src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.split("\n"))
                yield f"notebooks/{name}", src, f"code cell {i}"


def py_arrows(root: str) -> list:
    arrows = []
    for rel, source, cell in _py_sources(root):
        is_notebook = rel.endswith(".ipynb")
        module = "vibetensor.paper.notebook" if is_notebook else _module_name(rel)
        src = "paper" if is_notebook else _py_layer(module)
        for line, target, base in _imports(ast.parse(source, rel), module, rel.endswith("__init__.py")):
            dst = _py_layer(target)
            if dst is None:
                continue
            where = f"{rel}:{cell + ', line ' if cell else ''}{line}"
            text = source.split("\n")[line - 1].strip()
            src_name = "paper/notebooks" if src == "paper" else src
            dst_name = "paper/notebooks" if dst == "paper" else dst
            if PY_LAYERS[dst] > PY_LAYERS[src]:
                arrows.append(Arrow(where, src_name, dst_name, text, "up"))
            elif src == "paper" and dst == "experiments" and EXPERIMENTS_SURFACE not in (target, base):
                arrows.append(Arrow(where, src_name, dst_name, text, f"past {EXPERIMENTS_SURFACE}"))
    return arrows


def upward_arrows(root: str, lang: str = "all") -> list:
    return (py_arrows(root) if lang in ("py", "all") else []) + (cpp_arrows(root) if lang in ("cpp", "all") else [])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lang", choices=("py", "cpp", "all"), default="all")
    p.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   help="the checkout to read (default: this script's)")
    a = p.parse_args(argv)
    arrows = upward_arrows(a.root, a.lang)
    for arrow in arrows:
        print(f"{arrow.where}: {arrow.src} -> {arrow.dst} ({arrow.why}): {arrow.text}")
    pairs = collections.Counter((arrow.src, arrow.dst, arrow.why) for arrow in arrows)
    if arrows:
        print()
    for (src, dst, why), n in sorted(pairs.items()):
        print(f"{n:5d}  {src} -> {dst} ({why})")
    print(f"{len(arrows)} arrow(s) against the drawing ({a.lang})")
    return 1 if arrows else 0


if __name__ == "__main__":
    sys.exit(main())
