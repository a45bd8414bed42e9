"""List the ops of csrc/ops/op_list.h and which dispatch keys have a kernel registered for each.

Usage: python3 scripts/kernel_coverage.py [--missing CUDA]
Reads the sources only (no build needed): op names from op_list.h, registrations from every
VT_REGISTER_KERNEL("vt::name", KEY, fn) under csrc/.
"""
import argparse
import pathlib
import re
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
OP_RE = re.compile(r'^\s*X\([^,]+(?:<[^>]*>)?,\s*(\w+),', re.M)
REG_RE = re.compile(r'VT_REGISTER_KERNEL\(\s*"vt::(\w+)"\s*,\s*(\w+)')


def ops():
    text = (ROOT / "csrc/ops/op_list.h").read_text()
    return [m.group(1) for m in OP_RE.finditer(text) if not m.group(1).startswith("VT_")]


def registrations():
    keys = defaultdict(set)
    for path in (ROOT / "csrc").rglob("*"):
        if path.suffix in {".cpp", ".cu", ".h", ".cuh"}:
            for m in REG_RE.finditer(path.read_text()):
                keys[m.group(1)].add(m.group(2))
    return keys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--missing", default=None,
                        help="print only ops with neither a kernel for this key nor a Composite one")
    args = parser.parse_args()
    keys = registrations()
    for name in ops():
        have = keys.get(name, set())
        if args.missing and (args.missing in have or "Composite" in have):
            continue
        print(f"{name:32s} {' '.join(sorted(have)) or '-'}", flush=True)


if __name__ == "__main__":
    main()
