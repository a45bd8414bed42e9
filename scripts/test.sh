#!/usr/bin/env bash
# The test suite (what CI runs through .ci/run): sets up as the main job does
# (scripts/setup_env.sh), then runs pytest against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
# -P: test the installed package, not the source folder of the same name.
exec "$VT_PY" -P -m pytest -q -p no:cacheprovider tests "$@"
