#!/usr/bin/env bash
# One device call on a GPU machine: build (or reuse a carried build), GPU tests, benchmarks and
# experiments, chosen by STAGES. Everything lands in $OUT as few files (the device tool returns at
# most 8): summary.txt, logs.tar.gz (every log and result file) and, after a fresh build,
# _C.so for carrying to the next call (copy it into .gpu_build/ and carry that folder).
#
#   VT_GIT_COMMIT=<hash> STAGES="build tests bench exp" OUT=/some/dir bash scripts/gpu_session.sh
#
# VT_GIT_COMMIT: the commit of the tree sent, written out where the call is made (`git rev-parse
# HEAD` there). Evaluated on the GPU machine, $(git rev-parse HEAD) reads the copy's .git, which
# may be older than the tree.
#
# Stages: build (always needed unless .gpu_build/ holds a module built from the same sources),
# tests (tests/gpu + the CUDA-related CPU tests), bench (op overhead, bandwidth, matmul, allocator,
# contention), noprobes (the build without probes, for probe_cost), probe_cost (PROBE_COST_ARGS), exp (EXP_CONFIGS: experiment configs run with the vibetensor CLI),
# ablate (ABLATE_ARGS: in-process one-at-a-time ablations), breakdown (kernel time by family, PyTorch beside vibetensor),
# suite_tests (the kernel suite's GPU tests; device tests with kernels.backend=triton), suite (the kernel
# suite against PyTorch, SUITE_ARGS; host cost per launch path), trace (one minigpt step traced with CUPTI, then HTA).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-./out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOGS=$OUT/logs
mkdir -p "$LOGS"
STAGES=${STAGES:-"build tests bench"}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
SUMMARY=$OUT/summary.txt
log() { echo "[gpu_session $(date +%H:%M:%S)] $*" | tee -a "$SUMMARY"; }
has() { [[ " $STAGES " == *" $1 "* ]]; }
finish() {
  (cd "$OUT" && tar czf logs.tar.gz logs && rm -rf logs)
  log "done"
}
trap finish EXIT

# Wheels the machine cannot download (installed into /tmp/site, as the device README says).
if ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    > "$LOGS/wheels.log" 2>&1 || log "WARNING: wheel install failed (logs/wheels.log)"
  export PYTHONPATH=/tmp/site
fi
# nvidia-cutlass-dsl (56 MiB as a wheel) travels as an xz tarball of its installed files (.cute/, 41 MB),
# unpacked into .cute_site: the CuTe DSL backend of the kernel suite (kernels/cute). With the module and
# the wheels it passes the device tool's 64 MiB, so a call may carry .cute alone to unpack it
# (CUTE_UNPACK_ONLY=1), and the next call on the still-warm machine finds .cute_site there.
if [ ! -d .cute_site ] && ls .cute/*.tar.xz >/dev/null 2>&1; then
  mkdir -p .cute_site && tar -xJf .cute/*.tar.xz -C .cute_site || log "WARNING: could not unpack .cute"
fi
[ "${CUTE_UNPACK_ONLY:-0}" = 1 ] && { log "unpacked .cute into .cute_site"; exit 0; }
if [ -d .cute_site ]; then
  export PYTHONPATH=$ROOT/.cute_site:$ROOT/.cute_site/nvidia_cutlass_dsl/python_packages${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PATH=/tmp/site/bin:$PATH

src_hash() { find csrc cmake CMakeLists.txt -type f | LC_ALL=C sort | xargs sha1sum | sha1sum | cut -c1-16; }
HASH=$(src_hash)
# The build without probes (variant (a) of benchmarks/probe_cost.py) goes to /tmp/np: a copy of the
# tree built with -DVT_PROBES=OFF, or the tree plus a carried .gpu_build/noprobes_*.so.gz of the same
# sources. It builds in the background, beside the main build.
NP=/tmp/np
NP_PID=
if has noprobes; then
  if [ -f .gpu_build/src_hash ] && [ "$(cat .gpu_build/src_hash)" = "$HASH" ] && ls .gpu_build/noprobes_*.so.gz >/dev/null 2>&1; then
    mkdir -p $NP && tar -c --exclude=./.git --exclude=./.whl --exclude=./.cute --exclude=./.cute_site --exclude=./.gpu_build --exclude=./build --exclude='*.so' . | tar -x -C $NP
    gz=$(ls .gpu_build/noprobes_*.so.gz | head -1); base=$(basename "$gz" .gz)
    gunzip -c "$gz" > "$NP/vibetensor/${base#noprobes_}" && log "reusing the carried build without probes"
  else
    log "building without probes (background)"
    $PY benchmarks/probe_cost.py --build-noprobes $NP --jobs ${NOPROBES_JOBS:-6} --rounds 0 --blocks 0 \
      > "$LOGS/build_noprobes.log" 2>&1 &
    NP_PID=$!
  fi
fi
if has build; then
  if [ -f .gpu_build/src_hash ] && [ "$(cat .gpu_build/src_hash)" = "$HASH" ] && ls .gpu_build/_C*.so.gz >/dev/null 2>&1; then
    gz=$(ls .gpu_build/_C*.so.gz | head -1)
    gunzip -c "$gz" > "vibetensor/$(basename "$gz" .gz)" && log "reusing the carried build (sources $HASH)"
  else
    log "building from source (sources $HASH)"
    OUT=$LOGS/build bash scripts/gpu_check.sh --co -q > "$LOGS/build_and_collect.log" 2>&1
    rc=$?
    tail -5 "$LOGS/build/summary.txt" | tee -a "$SUMMARY"
    [ $rc -eq 0 ] || { log "build or collection failed (rc $rc)"; exit $rc; }
    so=$(ls vibetensor/_C*.so | head -1)
    strip --strip-debug -o "/tmp/$(basename "$so")" "$so" && gzip -c "/tmp/$(basename "$so")" > "$OUT/$(basename "$so").gz" \
      && echo "$HASH" > "$OUT/src_hash"
  fi
fi
if [ -n "$NP_PID" ]; then
  wait $NP_PID; log "build without probes exit $?"
  so=$(ls $NP/vibetensor/_C*.so 2>/dev/null | head -1)
  [ -n "$so" ] && strip --strip-debug -o /tmp/np_stripped.so "$so" && gzip -c /tmp/np_stripped.so > "$OUT/noprobes_$(basename "$so").gz"
fi
{
  echo "commit ${VT_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null)} (VT_GIT_COMMIT names the source commit; this copy's .git may be older)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  $PY -c "import vibetensor as vt; print('vibetensor cuda', vt.cuda.is_available(), vt.cuda.get_device_name(0))"
} 2>&1 | tee -a "$SUMMARY"

if has tests; then
  log "GPU tests"
  # tests/gpu (GPU-only) plus every file with tests written once for every device (a test taking
  # the `device` fixture), found by grep so a newly merged file is not forgotten.
  device_files=$(grep -lE "def test_[A-Za-z0-9_]*\((.*[ ,])?device[,)]" tests/test_*.py | tr '\n' ' ')
  log "device-parametrized files: $device_files"
  $PY -m pytest -q -p no:cacheprovider -rfEs --durations=15 --junitxml="$LOGS/junit.xml" tests/gpu \
      tests/test_cuda_absent.py tests/test_random_philox.py $device_files \
      ${PYTEST_ARGS:-} > "$LOGS/pytest_gpu.log" 2>&1
  log "pytest exit $?: $(tail -1 "$LOGS/pytest_gpu.log")"
  grep -E "^(FAILED|ERROR)" "$LOGS/pytest_gpu.log" | head -40 | tee -a "$SUMMARY"
fi

if has suite_tests; then  # the kernel suite's GPU tests, then the device-parametrized files with kernels.backend=triton
  log "kernel suite tests"
  $PY -m pytest -q -p no:cacheprovider -rfE tests/gpu/test_kernel_suite_gpu.py tests/gpu/test_suite_*.py \
      tests/test_kernel_suite.py > "$LOGS/pytest_suite.log" 2>&1
  log "pytest exit $?: $(tail -1 "$LOGS/pytest_suite.log")"
  grep -E "^(FAILED|ERROR)" "$LOGS/pytest_suite.log" | head -20 | tee -a "$SUMMARY"
  VT_POLICY=kernels.backend=triton $PY -m pytest -q -p no:cacheprovider -rfE -k cuda ${SUITE_DEVICE_FILES:-tests/test_softmax_norm_loss.py \
      tests/test_elementwise.py tests/test_nn.py} > "$LOGS/pytest_suite_device.log" 2>&1
  log "device tests with kernels.backend=triton: exit $?: $(tail -1 "$LOGS/pytest_suite_device.log")"
  grep -E "^(FAILED|ERROR)" "$LOGS/pytest_suite_device.log" | head -20 | tee -a "$SUMMARY"
fi

bench() {  # name, command...
  local name=$1; shift
  log "bench $name"
  timeout "${BENCH_TIMEOUT:-240}" "$@" > "$LOGS/bench_$name.log" 2>&1
  log "  exit $?"; tail -${BENCH_TAIL:-12} "$LOGS/bench_$name.log" | tee -a "$SUMMARY"
}
if has bench; then
  bench op_overhead $PY benchmarks/bench_op_overhead.py --device cuda --iters 20000
  bench op_spellings_cpu $PY benchmarks/bench_op_spellings.py --device cpu
  bench op_spellings_cuda $PY benchmarks/bench_op_spellings.py --device cuda
  for b in bandwidth matmul allocator; do
    [ -f benchmarks/bench_${b}_cuda.py ] && bench $b $PY benchmarks/bench_${b}_cuda.py --json "$LOGS/bench_$b.json"
  done
  bench contention_cpu $PY benchmarks/contention.py --device cpu --json "$LOGS/contention_cpu.json"
  bench contention_cuda $PY benchmarks/contention.py --device cuda --json "$LOGS/contention_cuda.json"
fi
if has probe_cost; then  # with the noprobes stage, against the build without probes in /tmp/np
  np_arg=
  ls $NP/vibetensor/_C*.so >/dev/null 2>&1 && np_arg="--noprobes-root $NP"
  BENCH_TIMEOUT=${PROBE_COST_TIMEOUT:-300} bench probe_cost $PY benchmarks/probe_cost.py --device ${PROBE_COST_DEVICE:-cuda} \
    $np_arg ${PROBE_COST_ARGS:-} --json "$LOGS/probe_cost.json"
fi

if has exp; then
  # Results go to $EXP_OUT_DIR/<config>.jsonl (a folder of the repo, so a later call that carries it
  # resumes the matrix without redoing finished cells) and are copied into the logs.
  EXP_OUT_DIR=${EXP_OUT_DIR:-$LOGS}
  mkdir -p "$EXP_OUT_DIR"
  for cfg in ${EXP_CONFIGS:-experiments/configs/h100.toml}; do
    name=$(basename "$cfg" .toml)
    res="$EXP_OUT_DIR/$name.jsonl"
    log "experiment $cfg -> $res"
    timeout "${EXP_TIMEOUT:-420}" $PY -m vibetensor.experiments.cli run "$cfg" --out "$res" > "$LOGS/exp_$name.log" 2>&1
    log "  exit $? ($(wc -l < "$res" 2>/dev/null || echo 0) cells recorded)"
    cp "$res" "$LOGS/" 2>/dev/null
    $PY -m vibetensor.experiments.cli compare "$res" --attribution 2>&1 | tee "$LOGS/compare_$name.txt" | tee -a "$SUMMARY"
  done
fi

if has ablate; then  # in-process one-at-a-time ablations (experiments/ablation.py); ABLATE_OUT in the repo resumes nothing
  ABLATE_OUT=${ABLATE_OUT:-$LOGS/ablation.jsonl}
  mkdir -p "$(dirname "$ABLATE_OUT")"
  log "ablate ${ABLATE_ARGS:-seq_reverse}"
  timeout "${ABLATE_TIMEOUT:-480}" $PY -m vibetensor.experiments.cli ablate --device cuda --out "$ABLATE_OUT" \
    ${ABLATE_ARGS:-seq_reverse} > "$LOGS/ablation.log" 2>&1
  log "  exit $?"; cp "$ABLATE_OUT" "$LOGS/" 2>/dev/null
  $PY -m vibetensor.experiments.cli compare "$ABLATE_OUT" --attribution 2>&1 | sed -n '/ on cuda (/,$p' | tee -a "$SUMMARY"
fi

if has breakdown; then  # GPU time per kernel family, PyTorch beside vibetensor (BREAKDOWN_ARGS)
  BENCH_TAIL=${BREAKDOWN_TAIL:-80} BENCH_TIMEOUT=${BREAKDOWN_TIMEOUT:-300} bench kernel_breakdown \
    $PY benchmarks/kernel_breakdown.py --json "$LOGS/kernel_breakdown.json" ${BREAKDOWN_ARGS:-}
fi

if has suite; then  # the kernel suite: family x backend x shape against PyTorch, and host cost per launch path
  BENCH_TAIL=${SUITE_TAIL:-80} BENCH_TIMEOUT=${SUITE_TIMEOUT:-420} bench kernel_suite $PY benchmarks/bench_kernel_suite.py \
    --json "$LOGS/kernel_suite.json" --markdown "$LOGS/kernel_suite.md" ${SUITE_ARGS:-}
  BENCH_TAIL=12 bench suite_launch_cost $PY benchmarks/bench_suite_launch_cost.py --json "$LOGS/suite_launch_cost.json"
fi

if has trace; then
  log "trace of one minigpt step + HTA"
  $PY scripts/trace_step.py --workload minigpt --out "$LOGS/trace" > "$LOGS/trace_step.log" 2>&1
  log "  exit $?"; tail -30 "$LOGS/trace_step.log" | tee -a "$SUMMARY"
  $PY scripts/hta_check.py "$LOGS/trace" --out "$LOGS/hta_report.json" > "$LOGS/hta.log" 2>&1
  log "  hta exit $?"; tail -30 "$LOGS/hta.log" | tee -a "$SUMMARY"
fi
