#!/usr/bin/env bash
# Builds the CUDA module on this (GPU-less) machine and packs it as .gpu_build/ for the device tool to carry
# (gpu_session.sh reuses it when .gpu_build/src_hash matches the tree's sources).
#   BUILD_DIR=/tmp/gpub bash scripts/pack_gpu_build.sh     (BUILD_DIR: a configured CMake build of this tree)
# Configuring one on a fresh CPU machine (the GPU machine runs Python 3.12; about 12 minutes on 2 cores):
#   ~/.pyenv/versions/3.12.*/bin/python -m venv /tmp/py312 && /tmp/py312/bin/pip install nanobind scipy-openblas32 nvidia-cublas
#   cmake -S . -B /tmp/gpub -G Ninja -DVT_CUDA=on -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/tmp/py312/bin/python
# and carry the wheels the module and the steps need (.whl/: scipy-openblas32 of the same version, nvtx,
# py-spy, cupti-python, pyelftools; the device README's `pip download` line).
# A source edited while the build compiles it leaves an object newer than the edit but built from the old
# text: ninja then takes it for current, and the source hash cannot see it (session 34's stale embedding.cu).
# So the build repeats, each source edited during a pass touched again, until a pass sees no edit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-/tmp/gpub}
[ -f "$BUILD_DIR/build.ninja" ] || { echo "pack_gpu_build: $BUILD_DIR is not a configured CMake (Ninja) build" >&2; exit 2; }
marker=$(mktemp)
for pass in 1 2 3 4 5; do
  touch "$marker"
  sleep 1  # an edit in the same second as the marker still counts as newer
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
  edited=$(find csrc cmake CMakeLists.txt -type f -newer "$marker")
  [ -z "$edited" ] && break
  echo "pack_gpu_build: edited during pass $pass, building them again:" $edited >&2
  touch $edited
done
[ -z "$edited" ] || { echo "pack_gpu_build: sources still changing, not packed" >&2; exit 1; }
rm -f "$marker"
so=$(ls "$BUILD_DIR"/_C*.so)
# A build whose Python lacks the nvidia-cublas wheel has no CUDA matmul (cmake/cuda.cmake): every product on
# the GPU would raise (session 35's first call). Refuse to pack it.
readelf -d "$so" | grep -q 'libcublas\.so' || { echo "pack_gpu_build: $so does not link cuBLAS; pip install \
nvidia-cublas into the build's Python and configure again" >&2; exit 1; }
mkdir -p .gpu_build
strip --strip-debug -o /tmp/_vt_C.so "$so"
gzip -c /tmp/_vt_C.so > ".gpu_build/$(basename "$so").gz"
find csrc cmake CMakeLists.txt -type f | LC_ALL=C sort | xargs sha1sum | sha1sum | cut -c1-16 > .gpu_build/src_hash
echo "packed $(basename "$so") for sources $(cat .gpu_build/src_hash)"
