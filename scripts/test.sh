#!/usr/bin/env bash
# Installs vibetensor (building the C++ core) with the test extras, then runs the test suite.
# Works on a fresh machine: everything comes from PyPI (torch==2.13.0 is the CPU build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install --quiet --upgrade pip
$PY -m pip install --quiet ".[torch,test]"
# -P: test the installed package, not the source folder of the same name.
exec $PY -P -m pytest -q -p no:cacheprovider tests "$@"
