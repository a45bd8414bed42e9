"""Commands that run a vibetensor module in a fresh Python process which imports the same
vibetensor as this one (Note [Child processes])."""
import os
import sys

# Note [Child processes]
# `python -m pkg.mod` puts the working directory first on sys.path. Run from a source checkout
# while an installed vibetensor is in use (CI: `pip install .` and tests run from the checkout),
# the checkout's vibetensor/ folder, which has no built _C, would shadow the installed package in
# the child. So the child drops the working directory from sys.path and finds vibetensor where
# the parent found it (that folder goes first on PYTHONPATH). When that folder is the working
# directory itself (a checkout with _C built in place, as on the GPU machine), it stays: the
# bootstrap keeps the parent's package root whatever else it drops. `python -P` does the first
# half, but only from Python 3.11.
_BOOTSTRAP = ("import os, sys, runpy; cwd = os.getcwd(); root = {root!r}; "
              "sys.path[:] = [p for p in sys.path if p not in ('', '.', cwd) or os.path.abspath(p or '.') == root]; "
              "sys.path.insert(0, root) if root not in sys.path else None; "
              "runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")


def package_root() -> str:
    """The folder holding the vibetensor package this process imported."""
    import vibetensor

    return os.path.dirname(os.path.dirname(os.path.abspath(vibetensor.__file__)))


def module_command(module: str, *args: str) -> list:
    """argv running `module` as __main__ with `args` in a fresh interpreter."""
    return [sys.executable, "-c", _BOOTSTRAP.format(module=module, root=package_root()), *args]


def child_env(env: dict | None = None) -> dict:
    """`env` (default os.environ) with this process's vibetensor first on PYTHONPATH."""
    env = dict(os.environ if env is None else env)
    rest = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = package_root() + (os.pathsep + rest if rest else "")
    return env
