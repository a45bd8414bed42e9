#!/usr/bin/env bash
# Installs vibetensor and runs the default experiment (CONFIG overrides it). Prints step times,
# ratios to PyTorch and loss parity. The default is the quick CPU config on every machine until
# the CUDA backend has the kernels the GPU workloads need (see experiments/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install --quiet --upgrade pip
$PY -m pip install --quiet ".[torch]"
CONFIG=${CONFIG:-experiments/configs/quick_cpu.toml}
exec $PY -P -m vibetensor.experiments.cli run "$CONFIG" "$@"
