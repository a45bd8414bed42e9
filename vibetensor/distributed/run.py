"""Launches one script as N ranks on this machine, with torchrun's conventions:

    python -m vibetensor.distributed.run --nproc-per-node N [--master-port P] script.py [args...]
    python -m vibetensor.distributed.run --nproc-per-node N -m module [args...]

Each rank is a child process with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and
MASTER_PORT set (a free port when none is given), so init_process_group() finds its world from the
environment (Note [One-process distributed]). The launcher waits for every rank; when one fails, it stops the
others (SIGTERM, then SIGKILL after --stop-timeout seconds) and exits with the failed rank's code, naming it
on stderr, so a job never hangs on a peer that died. A SIGTERM or SIGHUP to the launcher (a scheduler's, or
timeout's) stops the ranks the same way, and Ctrl-C too.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time


def _free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_VALUED = {"--nproc-per-node", "--nproc_per_node", "--master-addr", "--master_addr", "--master-port", "--master_port",
           "--stop-timeout"}


def _split(argv):
    """The launcher's arguments and the script's: everything from the target on is the script's, options
    included (argparse would read a script's --nproc as the launcher's)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _VALUED:
            i += 2
        elif a.startswith("-") and (a.split("=")[0] in _VALUED or a in ("-m", "-h", "--help")):
            i += 1
        else:
            return argv[:i + 1], argv[i + 1:]
    return argv, []


def _parse(argv):
    ours, script_args = _split(argv)
    ap = argparse.ArgumentParser(prog="python -m vibetensor.distributed.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    ap.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, dest="nproc")
    ap.add_argument("--master-addr", "--master_addr", default="127.0.0.1", dest="master_addr")
    ap.add_argument("--master-port", "--master_port", type=int, default=0, dest="master_port",
                    help="the store's port (default: a free one)")
    ap.add_argument("--stop-timeout", type=float, default=5.0,
                    help="seconds the other ranks get to exit after one fails, before SIGKILL")
    ap.add_argument("-m", dest="module", action="store_true", help="run the target as a module (python -m)")
    ap.add_argument("target", help="the script (or module with -m); the arguments after it are the script's")
    a = ap.parse_args(ours)
    a.args = script_args
    if a.nproc < 1:
        ap.error(f"--nproc-per-node must be at least 1, got {a.nproc}")
    return a


def _stop(procs, timeout):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main(argv=None):
    a = _parse(sys.argv[1:] if argv is None else argv)
    port = a.master_port or _free_port(a.master_addr)
    command = [sys.executable] + (["-m", a.target] if a.module else [a.target]) + a.args
    procs = []

    def on_signal(signum, _frame):  # a scheduler's SIGTERM / SIGHUP: the ranks go with the launcher
        _stop(procs, a.stop_timeout)
        sys.exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    for rank in range(a.nproc):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(a.nproc),
                   LOCAL_WORLD_SIZE=str(a.nproc), GROUP_RANK="0", MASTER_ADDR=a.master_addr, MASTER_PORT=str(port))
        procs.append(subprocess.Popen(command, env=env))
    try:
        while True:
            # blocks until a rank exits, leaving it unreaped so poll() below reaps it and reads its code
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            codes = [p.poll() for p in procs]
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                rank, code = failed[0]
                others = [p for p in procs if p.poll() is None]
                print(f"vibetensor.distributed.run: rank {rank} exited with code {code}; stopping the "
                      f"{len(others)} rank(s) still running", file=sys.stderr, flush=True)
                _stop(procs, a.stop_timeout)
                return code if code > 0 else 128 - code  # a signal's death as the shell reports it
            if all(c == 0 for c in codes):
                return 0
    except KeyboardInterrupt:
        _stop(procs, a.stop_timeout)
        return 130


if __name__ == "__main__":
    sys.exit(main())
