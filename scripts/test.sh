#!/usr/bin/env bash
# The test suite (what CI runs through .ci/run): sets up as the main job does
# (scripts/setup_env.sh), then runs pytest against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
# Arguments go to pytest; the whole tests/ folder runs unless they name test files or node ids
# (bash scripts/test.sh tests/test_nn.py -x runs that file only).
targets=(tests)
for arg in "$@"; do
  case "$arg" in -*) ;; *) if [ -e "${arg%%::*}" ]; then targets=(); fi ;; esac
done
# -P: test the installed package, not the source folder of the same name.
exec "$VT_PY" -P -m pytest -q -p no:cacheprovider "${targets[@]}" "$@"
