"""A cell's process: builds one cell (runner.CellSession) and runs its timed steps in blocks when the
driver asks (Note [Interleaved rounds] in rounds.py). The CLI starts one such process per cell so
policies fixed at first use, such as alloc.cuda, can differ between cells.

Protocol, one line each way: after warm-up the cell prints @@READY@@; then it reads commands from
stdin, `block N` (runs N timed steps, prints @@BLOCK@@<median ms>) or `record` (runs the probe and
GPU steps, prints @@RESULT@@<record JSON> and exits). @@STEP@@i/n after every step when asked.
With --data-parallel the process is one rank of a launched cell (Note [Data-parallel cells]): rank 0
speaks the protocol and passes the commands on to the other ranks."""
import argparse
import json
import os
import sys

from vibetensor.experiments.runner import CellSession


def _say(line: str):
    if os.environ.get("RANK", "0") == "0":  # a data-parallel cell's other ranks are silent
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--framework", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="intra-op CPU threads (0: the framework's default)")
    p.add_argument("--policy", default="{}", help="JSON object of policy name -> value (and 'preset')")
    p.add_argument("--options", default="{}", help="JSON object of workload options (fields of its Config)")
    p.add_argument("--probe-steps", type=int, default=5)
    p.add_argument("--gpu-steps", type=int, default=5)
    p.add_argument("--progress", action="store_true", help="print a @@STEP@@ line after every step")
    p.add_argument("--data-parallel", action="store_true",
                   help="this process is a rank of a launched data-parallel cell (DistributedDataParallel)")
    a = p.parse_args(argv)
    total = a.warmup + a.steps

    def progress(i):
        _say(f"@@STEP@@{i + 1}/{total}")

    session = CellSession(a.workload, a.framework, a.device, a.steps, a.warmup, json.loads(a.policy),
                          json.loads(a.options), a.threads or None, progress if a.progress else None,
                          a.data_parallel)
    _say("@@READY@@")
    lines = iter(sys.stdin)
    while True:
        line = session.rank.next_command(lines) if session.rank else next(lines, "")
        if not line:
            break
        cmd = line.split()
        if cmd[:1] == ["block"] and len(cmd) == 2:
            _say(f"@@BLOCK@@{session.block(int(cmd[1]))}")
        elif cmd == ["record"]:
            _say("@@RESULT@@" + json.dumps(session.record(a.probe_steps, a.gpu_steps)))
            session.close()
            return 0
        else:
            raise SystemExit(f"cell: unknown command {line.strip()!r}: expected 'block N' or 'record'")
    return 1  # the driver went away


if __name__ == "__main__":
    sys.exit(main())
