#!/usr/bin/env bash
# Reproduces the crash seen on the H100 when a check in a .cu translation unit throws, under
# cuda-gdb, and prints the backtrace. Build as scripts/gpu_check.sh does (build/gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-./out}; mkdir -p "$OUT"
ls .whl/*.whl >/dev/null 2>&1 && python3 -m pip install -q --no-index --find-links .whl .whl/*.whl > /dev/null 2>&1
cmake -S . -B build/gpu -G Ninja -DVT_DEV_INPLACE=ON -DVT_CUDA=on -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DPython_EXECUTABLE="$(command -v python3)" > "$OUT/build.log" 2>&1 &&
  cmake --build build/gpu -j 16 >> "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
cat > /tmp/throw.py <<'PY'
from vibetensor import _C
ops = _C._ops
cuda = _C.device("cuda")
a = ops.full([20], 1.0, device=cuda)
b = ops.full([6, 20], 1.0, device=cuda)
try:
    ops.add_(a, b)
except Exception as e:
    print("caught", type(e).__name__, e)
PY
PYTHONPATH=$(pwd) timeout 200 cuda-gdb -batch -ex run -ex bt -ex "info sharedlibrary" --args python3 /tmp/throw.py 2>&1 \
  | grep -v "^\[New Thread\|^\[Thread\|Detaching" | tee "$OUT/throw_bt.log" | head -60
echo "== g++ used by CMake and nvcc"; grep -E "CMAKE_CXX_COMPILER:|CMAKE_CUDA_HOST_COMPILER" build/gpu/CMakeCache.txt; g++ --version | head -1
