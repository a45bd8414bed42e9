#!/usr/bin/env bash
# The stability check of issue 10: RUNS (default 3) back-to-back runs of the main job's quick config
# while CPU-heavy processes run beside them: LOAD_PROCS busy Python loops (default 1, "another
# CPU-heavy process"; LOAD_PROCS=$(nproc) leaves the cells no free core). Results go to
# experiments/results/quick_cpu_under_load/<commit>/load<LOAD_PROCS>/runN/. Each run starts a fresh
# invocation (its own --out), so every ratio is measured again; the tables land in
# experiments/results/quick_cpu_under_load/<commit>/runN/ with their logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
dir=experiments/results/quick_cpu_under_load/$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)/load${LOAD_PROCS:-1}
load=()
for _ in $(seq 1 "${LOAD_PROCS:-1}"); do
  "$VT_PY" -c "while True: pass" &
  load+=($!)
done
trap 'kill "${load[@]}" 2>/dev/null' EXIT
echo "load: ${#load[@]} busy processes on $(nproc) cores"
for i in $(seq 1 "${RUNS:-3}"); do
  mkdir -p "$dir/run$i"
  t0=$SECONDS
  "$VT_PY" -P -m vibetensor.experiments.cli run experiments/configs/quick_cpu.toml \
    --out "$dir/run$i/results.jsonl" > "$dir/run$i/run.log" 2>&1
  echo "run $i: $((SECONDS - t0)) s, $dir/run$i/run.log"
  sed -n '/^gap table/,/^vt\/torch/p' "$dir/run$i/run.log"
done
