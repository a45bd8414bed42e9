#!/usr/bin/env bash
# One device call: build with CUDA, run the GPU tests, then the GPU benchmarks; everything the
# run produces lands in $OUT (copied into experiments/results/gpu/ by whoever ran it).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-./out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
bash scripts/gpu_check.sh -x -q "$@"
echo "gpu_check exit $?" >> "$OUT/summary.txt"
export PYTHONPATH=$(pwd)
{
  echo "== commit $(git rev-parse HEAD 2>/dev/null) dirty=$(git status --porcelain 2>/dev/null | wc -l)"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
  echo "== bench_op_overhead cuda"; python3 benchmarks/bench_op_overhead.py --device cuda --iters 20000
  echo "== bench_op_overhead cpu"; python3 benchmarks/bench_op_overhead.py --device cpu --iters 20000
} > "$OUT/bench.log" 2>&1
tail -30 "$OUT/bench.log"
