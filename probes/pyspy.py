"""Sampling profiles with py-spy: `record([...argv], "out.json")` runs a command under
`py-spy record` (native frames on by default, so time inside the C++ runtime shows by function)
and returns the profile's path. Speedscope JSON by default; a `.svg` path gives a flame graph."""
import os
import shutil
import subprocess
import sys

_FORMATS = {".json": "speedscope", ".svg": "flamegraph", ".txt": "raw"}


def executable() -> str:
    """Path of the py-spy executable; RuntimeError when it is not installed."""
    # beside this interpreter first: a venv's py-spy when the venv is used without being activated
    beside = os.path.join(os.path.dirname(sys.executable), "py-spy")
    path = beside if os.access(beside, os.X_OK) else shutil.which("py-spy")
    if path is None:
        raise RuntimeError("py-spy is not installed or not on PATH; install it with `pip install py-spy` "
                           "(sampling also needs ptrace permission: run as root or with CAP_SYS_PTRACE)")
    return path


def command(target, out_path: str, native: bool = True, rate: int = 100, subprocesses: bool = False,
            fmt: str | None = None, idle: bool = False) -> list:
    """The argv that runs `target` (a list of argv) under `py-spy record`, writing `out_path`.
    fmt: speedscope, flamegraph or raw (default: from the extension; speedscope otherwise).
    idle: keep the samples of a thread that waits (py-spy drops them by default). py-spy samples the
    threads that hold a Python thread state only: a C++ thread of the runtime that never runs Python (the
    autograd engine's workers) is not in the profile, and with idle the caller's wait for it is."""
    if isinstance(target, str) or not target:
        raise TypeError(f"py-spy: the target is a non-empty list of arguments, got {target!r}")
    if rate <= 0:
        raise ValueError(f"py-spy: rate is samples per second and must be positive, got {rate}")
    fmt = fmt or _FORMATS.get(os.path.splitext(out_path)[1], "speedscope")
    if fmt not in _FORMATS.values():
        raise ValueError(f"py-spy: fmt must be one of {sorted(set(_FORMATS.values()))}, got {fmt!r}")
    cmd = [executable(), "record", "--format", fmt, "--rate", str(rate), "-o", out_path]
    if native:
        cmd.append("--native")
    if subprocesses:
        cmd.append("--subprocesses")
    if idle:
        cmd.append("--idle")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    return cmd + ["--", *map(str, target)]


def record(target, out_path: str, native: bool = True, rate: int = 100, subprocesses: bool = False,
           fmt: str | None = None, check: bool = True) -> str:
    """Runs `target` under py-spy (see command()) and returns `out_path`. Raises RuntimeError
    when py-spy fails (check=True) or no profile was written. py-spy exits 0 even when the target
    fails, so a target's own failure shows only in its output."""
    cmd = command(target, out_path, native, rate, subprocesses, fmt)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"py-spy record exited with {proc.returncode} for {list(target)}:\n{proc.stderr[-2000:]}")
    if not os.path.exists(out_path):
        raise RuntimeError(f"py-spy record wrote no profile to {out_path}:\n{proc.stderr[-2000:]}")
    return out_path


def read_profile(path: str, within: str | None = None) -> list:
    """A speedscope profile as written by py-spy: [(stack, seconds)], each stack a tuple of frame labels from
    the root down, over every thread it sampled. A frame is 'function (file)': lines are merged, so a
    function is one box; a native frame py-spy could not name is its library, '[libc.so.6]'.
    within: on a thread that ever runs a function of that name (for example 'CellSession.block', a cell's
    timed steps), keep only the samples under it, cut so that frame is the root; a thread that never does
    (an autograd engine's worker running the backward of those steps) keeps all its samples, warm-up's
    among them, since a speedscope sample has no time to tell them apart."""
    import json

    with open(path) as f:
        d = json.load(f)
    try:
        frames = [_label(fr) for fr in d["shared"]["frames"]]
        profiles = [(p["samples"], p["weights"]) for p in d["profiles"]]
    except (KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a speedscope profile (expected shared.frames and profiles[].samples/"
                         f"weights, as py-spy --format speedscope writes): missing {e}") from None
    names = [fr.get("name", "") for fr in d["shared"]["frames"]]
    out = []
    for samples, weights in profiles:
        runs_it = within is not None and any(names[f] == within for stack in samples for f in stack)
        for stack, w in zip(samples, weights):
            if runs_it:
                cut = next((i for i, f in enumerate(stack) if names[f] == within), None)
                if cut is None:
                    continue
                stack = stack[cut:]
            out.append((tuple(frames[f] for f in stack), float(w)))
    return out


def _label(frame: dict) -> str:
    name, where = frame.get("name", "?"), os.path.basename(frame.get("file") or "?")
    return f"[{where}]" if name.startswith("0x") else f"{name} ({where})"


def frame_times(stacks: list) -> dict:
    """{frame: (self seconds, total seconds)} over read_profile()'s stacks: self is time with the frame on
    top, total is time with it anywhere on the stack (counted once per sample under recursion)."""
    times = {}
    for stack, w in stacks:
        for f in set(stack):
            s, t = times.get(f, (0.0, 0.0))
            times[f] = (s, t + w)
        if stack:
            s, t = times[stack[-1]]
            times[stack[-1]] = (s + w, t)
    return times
