"""A poor man's sampling profiler for GPU calls where py-spy is absent: with this folder on PYTHONPATH and
VT_STACK_DIR set, every Python process started under it writes all of its threads' stacks to <dir>/<pid>.txt
every VT_STACK_EVERY seconds (default 20), through faulthandler (a C-level timer thread: no Python code runs
in the sampled process, so a process stuck in a C call is sampled too). Used to see where a vibe cell's
warm-up spends minutes on a fresh GPU machine:

    VT_STACK_DIR=$OUT/stacks PYTHONPATH=scripts/stack_sampler python3 -m vibetensor.experiments.cli run ...

Development only; nothing in vibetensor imports it."""
import os

_dir = os.environ.get("VT_STACK_DIR")
if _dir:
    import faulthandler
    import sys

    os.makedirs(_dir, exist_ok=True)
    _file = open(os.path.join(_dir, f"{os.getpid()}.txt"), "a", buffering=1)  # kept open for the process's life: faulthandler writes to its fd
    _file.write(f"=== pid {os.getpid()} argv {' '.join(sys.argv)[:300]}\n")
    faulthandler.dump_traceback_later(float(os.environ.get("VT_STACK_EVERY", "20")), repeat=True, file=_file)
