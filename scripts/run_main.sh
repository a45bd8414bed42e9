#!/usr/bin/env bash
# The main job: sets up (scripts/setup_env.sh: a virtual environment, vibetensor built from this
# checkout, PyTorch and the analysis packages), then runs the default experiment (CONFIG overrides
# it): the H100 gap table (experiments/configs/h100.toml) where vibetensor sees a CUDA GPU, else the
# quick CPU config. Prints step times, vibetensor/PyTorch ratios with their intervals, the probe
# columns and loss parity, and writes a bar chart of the ratios beside the results.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
if [ -z "${CONFIG:-}" ]; then
  if "$VT_PY" -P -c "import vibetensor as vt, sys; sys.exit(0 if vt.cuda.is_available() else 1)" 2>/dev/null; then
    CONFIG=experiments/configs/h100.toml
  else
    CONFIG=experiments/configs/quick_cpu.toml
  fi
fi
echo "main job: $CONFIG"
exec "$VT_PY" -P -m vibetensor.experiments.cli run "$CONFIG" "$@"
