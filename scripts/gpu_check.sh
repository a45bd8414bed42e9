#!/usr/bin/env bash
# Builds vibetensor with the CUDA backend from source on a GPU machine and runs the GPU tests.
# Logs go to $OUT (default ./out): env.log, build.log, pytest.log, junit.xml, summary.txt.
#
#   OUT=/some/dir bash scripts/gpu_check.sh [extra pytest args]
#
# Wheels the machine cannot download (scipy-openblas32, ...) are installed from .whl/ if present.
# VT_CUDA_ARCH overrides the CUDA architectures (default 90, H100). PYTHON picks the interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-./out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${PYTHON:-python3}
ARCH=${VT_CUDA_ARCH:-90}
JOBS=$(nproc 2>/dev/null || echo 8)

log() { echo "[gpu_check] $*" | tee -a "$OUT/summary.txt"; }
: > "$OUT/summary.txt"

{
  echo "== date"; date
  echo "== nvidia-smi"; nvidia-smi 2>&1 || true
  echo "== nvcc"; (nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>&1 || true
  echo "== python"; $PY --version 2>&1; $PY -m pip --version 2>&1 || true
  echo "== cmake"; cmake --version 2>&1 || true
  echo "== ninja"; ninja --version 2>&1 || true
  echo "== cublas"; ls /usr/local/cuda/include/cublas_v2.h /usr/local/cuda/lib64/libcublas* 2>&1 || true
} > "$OUT/env.log" 2>&1

# nvcc may be installed without being on PATH.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

# ---- Python prerequisites ---------------------------------------------------------------------
if ls .whl/*.whl >/dev/null 2>&1; then
  log "installing wheels from .whl/: $(ls .whl | tr '\n' ' ')"
  $PY -m pip install --no-index --find-links .whl .whl/*.whl >> "$OUT/env.log" 2>&1 || log "WARNING: pip install from .whl failed (see env.log)"
fi
missing=""
for mod in nanobind scipy_openblas32 numpy pytest; do
  $PY -c "import $mod" >/dev/null 2>&1 || missing="$missing $mod"
done
if [ -n "$missing" ]; then
  log "trying pip for missing modules:$missing"
  for mod in $missing; do
    pkg=${mod//_/-}
    $PY -m pip install "$pkg" >> "$OUT/env.log" 2>&1 || log "WARNING: could not install $pkg"
  done
fi
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" >> "$OUT/env.log" 2>&1 \
  || log "torch not importable: tests comparing against torch are skipped"

# ---- build ------------------------------------------------------------------------------------
log "building (VT_CUDA=on, CUDA architectures $ARCH, $JOBS jobs)"
start=$(date +%s)
if command -v cmake >/dev/null 2>&1; then
  GEN="Unix Makefiles"
  if ! command -v ninja >/dev/null 2>&1 && $PY -c "import ninja" >/dev/null 2>&1; then
    export PATH="$($PY -c 'import ninja; print(ninja.BIN_DIR)'):$PATH"  # the ninja wheel's binary
  fi
  command -v ninja >/dev/null 2>&1 && GEN=Ninja
  cmake -S . -B build/gpu -G "$GEN" -DVT_DEV_INPLACE=ON -DVT_CUDA=on -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DPython_EXECUTABLE="$(command -v $PY)" > "$OUT/build.log" 2>&1 \
    && cmake --build build/gpu -j "$JOBS" >> "$OUT/build.log" 2>&1
  rc=$?
else
  log "cmake not found: building with pip (scikit-build-core)"
  VT_CUDA=on CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=$ARCH" \
    $PY -m pip install --no-build-isolation --no-deps -v -e . > "$OUT/build.log" 2>&1
  rc=$?
fi
log "build exit code $rc after $(( $(date +%s) - start ))s"
grep -E "vibetensor:|error:|FAILED" "$OUT/build.log" | head -40 | tee -a "$OUT/summary.txt"
if [ $rc -ne 0 ]; then
  log "BUILD FAILED (tail of build.log follows)"
  tail -60 "$OUT/build.log" | tee -a "$OUT/summary.txt"
  exit $rc
fi

# ---- smoke + tests ----------------------------------------------------------------------------
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
$PY - <<'EOF' 2>&1 | tee -a "$OUT/summary.txt"
import vibetensor as vt
from vibetensor import _C
print("[gpu_check] module:", _C.__file__)
print("[gpu_check] cuda built:", vt.cuda.is_built(), "available:", vt.cuda.is_available(),
      "devices:", vt.cuda.device_count(), _C._cuda.unavailable_reason())
if vt.cuda.is_available():
    print("[gpu_check] device 0:", vt.cuda.get_device_name(0), vt.cuda.get_device_capability(0))
    t = _C._ops.full([4], 2.0, device=_C.device("cuda"))
    print("[gpu_check] smoke: full+mul on cuda ->", _C._item(_C._ops.select(_C._ops.mul(t, 3.0), 0, 0)))
EOF

log "running pytest"
$PY -m pytest -q -p no:cacheprovider -rs --durations=20 --junitxml="$OUT/junit.xml" \
    tests/gpu tests/test_cuda_absent.py tests/test_random_philox.py "$@" 2>&1 | tee "$OUT/pytest.log"
rc=${PIPESTATUS[0]}
tail -5 "$OUT/pytest.log" >> "$OUT/summary.txt"
log "pytest exit code $rc"
exit $rc
