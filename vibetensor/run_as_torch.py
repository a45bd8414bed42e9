"""python -m vibetensor.run_as_torch script.py [args...]: runs a PyTorch script unchanged on vibetensor.

Installs the alias (vibetensor.compat.install_as_torch), then runs the script as `python script.py args...`
would: as __main__, with sys.argv = [script.py, args...] and the script's folder first on sys.path (unless
python runs with -P). The exit status is the script's: sys.exit(n) passes through, an uncaught exception exits 1.
"""
import os
import runpy
import sys

from vibetensor.compat import install_as_torch

USAGE = "usage: python -m vibetensor.run_as_torch script.py [args...]"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    install_as_torch()
    sys.argv = argv
    if not sys.flags.safe_path:  # python -m put the working folder there; python script.py puts the script's
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
