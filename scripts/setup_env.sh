# Sourced by the README's two commands (scripts/run_main.sh, scripts/test.sh): makes "$VT_PY" a
# Python with vibetensor built from this checkout and everything the main job and the tests import.
# See Note [Two commands] in docs/developing.md.
#
# - Inside an active virtual environment it installs there; otherwise it creates (once) and reuses
#   .venv in the checkout, so a distribution Python that refuses pip installs (PEP 668) works too.
#   PYTHON=/path/to/python picks the interpreter that creates .venv.
# - The build is not isolated and its folder (build/<wheel tag>) persists, so a second run recompiles
#   only what changed; when nothing under the sources changed since the last install (a hash kept in
#   the environment), nothing is built or installed at all.
# - Build progress (ninja's [done/total] lines) is shown; the whole log is kept in build/install.log.
# - VT_CUDA=auto (default) builds the CUDA objects only where a GPU is visible; VT_CUDA=on builds them
#   without one, VT_CUDA=off never.
set -euo pipefail
VT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VT_EXTRAS="torch,test,paper,triton"   # one environment serves both commands: no reinstall between them

_vt_say() { printf '[setup] %s\n' "$*" >&2; }

_vt_pick_python() {
  if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    VT_PY="$VIRTUAL_ENV/bin/python"
    _vt_say "using the active virtual environment $VIRTUAL_ENV"
    return
  fi
  local venv="$VT_ROOT/.venv"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sys" 2>/dev/null; then
    VT_PY="$venv/bin/python"
    _vt_say "reusing $venv ($("$VT_PY" --version 2>&1))"
    return
  fi
  local base="${PYTHON:-}"
  if [ -z "$base" ]; then
    base=$(command -v python3 || command -v python || true)
  fi
  if [ -z "$base" ]; then
    _vt_say "no Python found: install Python >= 3.10 or set PYTHON=/path/to/python"; exit 1
  fi
  if ! "$base" -c "import sys; sys.exit(sys.version_info < (3, 10))"; then
    _vt_say "$base is $("$base" --version 2>&1); vibetensor needs Python >= 3.10 (set PYTHON=...)"; exit 1
  fi
  _vt_say "creating $venv with $base ($("$base" --version 2>&1))"
  rm -rf "$venv"
  if ! "$base" -m venv "$venv" 2>"$VT_ROOT/.venv-error.log"; then
    if "$base" -m virtualenv --version >/dev/null 2>&1; then
      "$base" -m virtualenv -q "$venv"
    else
      cat "$VT_ROOT/.venv-error.log" >&2
      _vt_say "$base cannot create a virtual environment (Debian/Ubuntu: apt install python3-venv); or activate one and rerun"
      exit 1
    fi
  fi
  rm -f "$VT_ROOT/.venv-error.log"
  VT_PY="$venv/bin/python"
}

# The hash of everything an install is made from, with the extras and the CUDA choice.
_vt_source_hash() {
  "$VT_PY" - "$VT_ROOT" "$VT_EXTRAS" "${VT_CUDA:-auto}" <<'EOF'
import hashlib, os, sys
root, extras, cuda = sys.argv[1:4]
h = hashlib.sha256(f"{extras}|{cuda}|{sys.version}".encode())
skip_dirs = {"results", "__pycache__", ".ipynb_checkpoints"}
for top in ("CMakeLists.txt", "pyproject.toml", "cmake", "csrc", "vibetensor", "kernels", "probes", "experiments", "paper"):
    path = os.path.join(root, top)
    files = [path] if os.path.isfile(path) else []
    for d, dirs, names in os.walk(path):
        dirs[:] = sorted(x for x in dirs if x not in skip_dirs)
        files += [os.path.join(d, n) for n in sorted(names) if not n.endswith((".so", ".pyc"))]
    for f in files:
        h.update(os.path.relpath(f, root).encode())
        with open(f, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
print(h.hexdigest())
EOF
}

# pip with its "Location '...' is ignored" warnings left out (a pip.conf naming find-links folders
# that do not exist prints one per package); every other line, and pip's exit status, passes through.
_vt_pip() {
  "$VT_PY" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
  return "${PIPESTATUS[0]}"
}

_vt_install() {
  local stamp="${VT_PY%/bin/python}/.vibetensor-install-hash"
  local want
  want=$(_vt_source_hash)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VT_PY" -P -c "import vibetensor" 2>/dev/null; then
    _vt_say "vibetensor is installed from these sources already (nothing to build)"
    return
  fi
  local t0=$SECONDS
  _vt_say "installing build tools (scikit-build-core, nanobind, cmake, ninja, scipy-openblas32)"
  _vt_pip install --quiet --disable-pip-version-check --upgrade pip
  _vt_pip install --quiet --disable-pip-version-check "scikit-build-core>=0.10" "nanobind>=2.0" \
    "scipy-openblas32>=0.3.27" "cmake>=3.18" ninja
  mkdir -p "$VT_ROOT/build"
  local log="$VT_ROOT/build/install.log"
  _vt_say "building vibetensor (VT_CUDA=${VT_CUDA:-auto}) and installing .[$VT_EXTRAS]; full log: build/install.log"
  # Not isolated, so the build folder's CMake cache stays valid between runs (Note [Two commands]).
  local rc=0
  ( cd "$VT_ROOT" && VT_CUDA="${VT_CUDA:-auto}" "$VT_PY" -m pip install -v --disable-pip-version-check \
      --no-build-isolation ".[$VT_EXTRAS]" ) >"$log" 2>&1 &
  local pid=$!
  # Show ninja's progress lines and CMake's decisions as they come, not pip's chatter.
  tail -n +1 -F --pid=$pid "$log" 2>/dev/null | grep --line-buffered -E \
    '^\s*\[[0-9]+/[0-9]+\] |vibetensor: |error:|Successfully installed' || true
  wait $pid || rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 40 "$log" >&2
    _vt_say "install failed (exit $rc); the whole log is build/install.log"
    exit $rc
  fi
  echo "$want" >"$stamp"
  _vt_say "installed in $((SECONDS - t0)) s"
}

_vt_pick_python
_vt_install
export VT_PY
