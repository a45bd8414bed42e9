#!/usr/bin/env bash
# One device call for the kernel suite (issue 19), in priority order, each step writing its own file
# under $OUT as it goes (a call cut short still returns what finished): the build (or a carried one,
# see gpu_session.sh), the suite's GPU tests, the host cost per launch path, the kernel table, the
# device tests with kernels.backend=triton, and the suite_h100 experiment.
#   VT_GIT_COMMIT=<hash> OUT=/dir bash scripts/gpu_suite_call.sh
# PYTEST_SUITE: the test files of the first step (default: the suite's GPU tests); LAUNCH_COST=0 skips the
# host cost per launch path; KS_ARGS: arguments of bench_kernel_suite.py; TRACE_ARGS: of trace_suite_op.py (TRACE=0 skips it);
# DEVICE_TESTS=0 skips the device tests under kernels.backend=triton (DEVICE_BACKENDS: under which backends, e.g. "triton cute"); EXP_STEPS: timed steps of the experiments
# (0: skip them), EXP_CONFIGS: which (default suite_h100); NORM_SWEEP_ARGS: runs benchmarks/tune_norm_bwd.py;
# PYTEST_TIMEOUT: seconds of the first step (default 200); KS=0 skips the kernel table.
# TRACE_PRESETS (e.g. "tuned vibe"): one traced minigpt step per preset, checked by HTA (s/traces.tar.gz);
# CAPTURE_ARGS: runs benchmarks/bench_step_capture.py (whole-step capture against PyTorch's peers);
# OPTIM_ARGS: runs benchmarks/bench_optim_step.py (one AdamW step: the optim family against PyTorch's).
# WARM_CONFIG: see below. CONV_ARGS: runs benchmarks/bench_conv.py (convolution and pooling at ResNet-18 CIFAR shapes, issue 13).
# GEMM_ARGS: runs benchmarks/bench_gemm_precision.py (float32 GEMMs: cuBLAS against the suite's IEEE and TF32x3), into gemm.txt;
# TUNE_ATTN_ARGS: runs benchmarks/tune_attention.py (the attention family's block sweep), into tune_attention.txt;
# ABLATE_ARGS: see the end. BREAKDOWN_ARGS: runs benchmarks/kernel_breakdown.py (GPU ms per step by kernel family, PyTorch beside vibetensor), into breakdown.txt.
# SAFETENSORS_ARGS: runs benchmarks/bench_safetensors.py --cuda (a 1 GiB file to the CPU and the GPU, issue 14), into conv.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
STAGES=build OUT=$OUT/s timeout ${BUILD_TIMEOUT:-330} bash scripts/gpu_session.sh > /dev/null 2>&1
rm -f "$OUT/s/src_hash" "$OUT/s/summary.txt"  # the device tool returns 8 files; the hash is computed where they land
# /tmp/site: the carried wheels; .cute_site: nvidia-cutlass-dsl (gpu_session.sh)
export PYTHONPATH=$(pwd):/tmp/site:$(pwd)/.cute_site:$(pwd)/.cute_site/nvidia_cutlass_dsl/python_packages${PYTHONPATH:+:$PYTHONPATH}
export PATH=/tmp/site/bin:$PATH
# A module built elsewhere and carried (.gpu_build) links cuBLAS by an rpath of that machine: find
# the libcublas.so.13 of this machine's nvidia wheels (torch's) instead.
cublas_dir=$(python3 -c "import nvidia, os; print(next((d for p in nvidia.__path__ for d in [os.path.join(p, 'cu13', 'lib')] if os.path.exists(os.path.join(d, 'libcublas.so.13'))), ''))" 2>/dev/null)
[ -n "$cublas_dir" ] && export LD_LIBRARY_PATH=$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# Triton's on-disk cache inside the (ignored) working copy: it stays on a warm machine between calls. A
# tarball of one returned by an earlier call (.tcache/triton_cache.tgz, about 9 MB for the band's kernels,
# carried) seeds a fresh machine's, so the vibe cells' first-use compiles need not run again.
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-$(pwd)/.triton_cache}
if [ ! -d "$TRITON_CACHE_DIR" ] && [ -f .tcache/triton_cache.tgz ]; then
  mkdir -p "$TRITON_CACHE_DIR" && tar xzf .tcache/triton_cache.tgz -C "$TRITON_CACHE_DIR" --strip-components=1
fi
# WARM_CONFIG (e.g. band_compile_warmup): an experiment config run in the background while the steps below
# run, to fill Triton's cache for a later call. It shares the GPU and the CPU cores with them: their
# timings are not clean while it runs.
if [ -n "${WARM_CONFIG:-}" ]; then
  mkdir -p /tmp/vt_exp && rm -f /tmp/vt_exp/warm.jsonl
  # its own process group, stopped when this call's steps end (it must not run into a later call's timings)
  setsid sh -c "python3 -m vibetensor.experiments.cli run experiments/configs/$WARM_CONFIG.toml \
    --out /tmp/vt_exp/warm.jsonl > '$OUT/warm.txt' 2>&1" &
  WARM_PID=$!
fi
step() {  # file (appended to), timeout, command...
  local f=$1 t=$2; shift 2
  echo "[$(date +%T)] $*" >> "$OUT/$f"
  timeout "$t" "$@" >> "$OUT/$f" 2>&1
  local rc=$?  # before the next command substitution resets $?
  echo "[$(date +%T)] exit $rc" >> "$OUT/$f"
}
step pytest_suite.log ${PYTEST_TIMEOUT:-200} python3 -m pytest -q -p no:cacheprovider -rfE ${PYTEST_SUITE:-tests/gpu/test_suite_matmul_elementwise.py \
  tests/gpu/test_kernel_suite_gpu.py tests/gpu/test_suite_attention.py tests/gpu/test_suite_cross_entropy.py \
  tests/gpu/test_suite_rotary.py tests/gpu/test_suite_bias_gelu.py tests/test_kernel_suite.py tests/gpu/test_cupti_activity.py}
[ "${LAUNCH_COST:-1}" = 1 ] && step launch_cost.txt 45 python3 benchmarks/bench_suite_launch_cost.py --rounds 5 --launches 300
[ "${TRACE:-1}" = 1 ] && step launch_cost.txt 90 python3 benchmarks/trace_suite_op.py ${TRACE_ARGS:-}
[ "${KS:-1}" = 1 ] && step kernel_suite.txt ${KS_TIMEOUT:-120} python3 benchmarks/bench_kernel_suite.py ${KS_ARGS:---rounds 3 --batch 5}
for b in ${DEVICE_BACKENDS:-triton}; do
  [ "${DEVICE_TESTS:-1}" = 1 ] && step pytest_suite.log ${DEVICE_TIMEOUT:-100} env VT_POLICY=kernels.backend=$b python3 -m pytest -q \
    -p no:cacheprovider -rfE -k cuda tests/test_softmax_norm_loss.py
done
[ -n "${OPTIM_ARGS:-}" ] && step kernel_suite.txt ${OPTIM_TIMEOUT:-120} python3 benchmarks/bench_optim_step.py $OPTIM_ARGS
[ -n "${SAFETENSORS_ARGS:-}" ] && step conv.txt ${SAFETENSORS_TIMEOUT:-60} python3 -P benchmarks/bench_safetensors.py --cuda $SAFETENSORS_ARGS
[ -n "${CONV_ARGS:-}" ] && step conv.txt ${CONV_TIMEOUT:-90} python3 benchmarks/bench_conv.py $CONV_ARGS
[ -n "${CAPTURE_ARGS:-}" ] && step capture.txt ${CAPTURE_TIMEOUT:-240} python3 benchmarks/bench_step_capture.py $CAPTURE_ARGS
[ -n "${TUNE_ATTN_ARGS:-}" ] && step tune_attention.txt ${TUNE_ATTN_TIMEOUT:-180} python3 benchmarks/tune_attention.py $TUNE_ATTN_ARGS
[ -n "${GEMM_ARGS:-}" ] && step gemm.txt ${GEMM_TIMEOUT:-150} python3 benchmarks/bench_gemm_precision.py $GEMM_ARGS
[ -n "${BREAKDOWN_ARGS:-}" ] && step breakdown.txt ${BREAKDOWN_TIMEOUT:-200} python3 benchmarks/kernel_breakdown.py $BREAKDOWN_ARGS
# SCRIPTS_DEVICE=cuda: issue 13's scripts on the GPU (the public ones need .thirdparty/ carried), into scripts.txt
# SCRIPTS_WHICH: which of them (default "public foreign style"); STYLE_ARGS: bench_style_scripts.py's arguments
if [ -n "${SCRIPTS_DEVICE:-}" ]; then
  for w in ${SCRIPTS_WHICH:-public foreign style}; do
    case $w in
      public) step scripts.txt ${SCRIPTS_TIMEOUT:-150} python3 benchmarks/bench_public_scripts.py --device $SCRIPTS_DEVICE \
                --rounds 1 ${PUBLIC_ARGS:-} ;;
      foreign) step scripts.txt 60 python3 -P benchmarks/bench_foreign_gpt.py --device $SCRIPTS_DEVICE --rounds 5 --block 4 ;;
      style) step scripts.txt ${STYLE_TIMEOUT:-120} python3 benchmarks/bench_style_scripts.py --device $SCRIPTS_DEVICE \
               ${STYLE_ARGS:---rounds 1} ;;
    esac
  done
fi
[ -n "${NORM_SWEEP_ARGS:-}" ] && step kernel_suite.txt ${NORM_SWEEP_TIMEOUT:-120} python3 benchmarks/tune_norm_bwd.py $NORM_SWEEP_ARGS
# One traced minigpt step per preset (Kineto layout), each checked by HTA: where the GPU waits.
if [ -n "${TRACE_PRESETS:-}" ]; then
  for p in $TRACE_PRESETS; do
    step trace.txt 120 python3 scripts/trace_step.py --workload minigpt --preset "$p" --out /tmp/traces/$p
    step trace.txt 120 python3 scripts/hta_check.py /tmp/traces/$p --out /tmp/traces/${p}_hta.json
  done
  cp "$OUT/trace.txt" /tmp/traces/ 2>/dev/null
  tar czf "$OUT/s/traces.tar.gz" -C /tmp traces
fi
# EXP_CONFIGS: experiment configs (names under experiments/configs) run in turn, EXP_STEPS timed steps each;
# a config cut short by EXP_TIMEOUT resumes where it stopped in the next call on the still-warm machine.
if [ "${EXP_STEPS:-0}" != 0 ]; then
  for c in ${EXP_CONFIGS:-suite_h100}; do
    sed "s/^steps = .*/steps = $EXP_STEPS/" experiments/configs/$c.toml > /tmp/$c.toml
    # The results live in /tmp/vt_exp while the machine stays warm: a later call of the same tree and steps
    # resumes the cells not yet done (the runner refuses to mix commits in one file).
    res=/tmp/vt_exp/${VT_GIT_COMMIT:-tree}-s$EXP_STEPS
    mkdir -p $res
    step exp.txt ${EXP_TIMEOUT:-200} sh -c "python3 -m vibetensor.experiments.cli run /tmp/$c.toml --out $res/$c.jsonl \
      && python3 -m vibetensor.experiments.cli compare $res/$c.jsonl"
    cp $res/$c.jsonl "$OUT/s/" 2>/dev/null
    rm -f "$OUT/s/gap.png"  # redrawn from the jsonl; the device tool returns 8 files
  done
fi
# PYSPY_CONFIG (e.g. profile_h100): that config run with --py-spy (needs py-spy from .whl); its results and
# profiles/*.json come back in s/data.tar.gz, its log in pyspy.txt
if [ -n "${PYSPY_CONFIG:-}" ]; then
  step pyspy.txt ${PYSPY_TIMEOUT:-240} python3 -m vibetensor.experiments.cli run experiments/configs/$PYSPY_CONFIG.toml \
    --py-spy --out "$OUT/s/pyspy/results.jsonl"
fi
# ABLATE_ARGS: `vibetensor ablate`'s arguments (the vibe band's in-process attribution, issue 11), into ablate.txt;
# its records go to $OUT/s/ablation.jsonl
[ -n "${ABLATE_ARGS:-}" ] && step ablate.txt ${ABLATE_TIMEOUT:-300} python3 -m vibetensor.experiments.cli ablate \
  $ABLATE_ARGS --out "$OUT/s/ablation.jsonl"
if [ -n "${WARM_PID:-}" ]; then
  kill -- -$WARM_PID 2>/dev/null
  echo "[$(date +%T)] warm-up stopped with the call's steps" >> "$OUT/warm.txt"
fi
# TCACHE_OUT=1: Triton's cache as it stands after the steps, $OUT/triton_cache.tgz, to carry as
# .tcache/triton_cache.tgz into the next call (a fresh machine then skips the compiles this one made).
[ "${TCACHE_OUT:-0}" = 1 ] && tar czf "$OUT/triton_cache.tgz" -C "$(dirname "$TRITON_CACHE_DIR")" "$(basename "$TRITON_CACHE_DIR")"
# The device tool returns at most 8 files: the machine-readable results (JSON, JSONL) travel as one
# tarball, $OUT/s/data.tar.gz, beside the text logs.
data=$(cd "$OUT" && find . -name '*.json' -o -name '*.jsonl' | sort)
if [ -n "$data" ]; then
  (cd "$OUT" && tar czf s/data.tar.gz $data && rm -f $data)
fi
