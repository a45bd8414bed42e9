#!/usr/bin/env bash
# Installs vibetensor and runs the default experiment (CONFIG overrides it): the H100 gap table
# (experiments/configs/h100.toml) where vibetensor sees a CUDA GPU, else the quick CPU config.
# Prints step times, ratios to PyTorch with their CI, the probe columns and loss parity.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install --quiet --upgrade pip
$PY -m pip install --quiet ".[torch]"
if [ -z "${CONFIG:-}" ]; then
  if $PY -P -c "import vibetensor as vt, sys; sys.exit(0 if vt.cuda.is_available() else 1)" 2>/dev/null; then
    CONFIG=experiments/configs/h100.toml
  else
    CONFIG=experiments/configs/quick_cpu.toml
  fi
fi
echo "main job: $CONFIG"
exec $PY -P -m vibetensor.experiments.cli run "$CONFIG" "$@"
