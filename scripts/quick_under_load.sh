#!/usr/bin/env bash
# The stability check of issue 10: RUNS (default 3) back-to-back runs of the main job's quick config
# while a CPU-heavy process (a busy Python loop) runs beside them. Each run starts a fresh
# invocation (its own --out), so every ratio is measured again; the tables land in
# experiments/results/quick_cpu_under_load/<commit>/runN/ with their logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
dir=experiments/results/quick_cpu_under_load/$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
"$VT_PY" -c "while True: pass" &
load=$!
trap 'kill $load 2>/dev/null' EXIT
for i in $(seq 1 "${RUNS:-3}"); do
  mkdir -p "$dir/run$i"
  t0=$SECONDS
  "$VT_PY" -P -m vibetensor.experiments.cli run experiments/configs/quick_cpu.toml \
    --out "$dir/run$i/results.jsonl" > "$dir/run$i/run.log" 2>&1
  echo "run $i: $((SECONDS - t0)) s, $dir/run$i/run.log"
  sed -n '/^gap table/,/^vt\/torch/p' "$dir/run$i/run.log"
done
