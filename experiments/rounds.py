"""Runs the cells of one group (a workload's PyTorch cell and its vibetensor cells) side by side: one
process per cell, their timed steps interleaved in rounds (Note [Interleaved rounds])."""
import json
import queue
import subprocess
import tempfile
import threading
import time
import uuid

# How long a cell that gave its record may take to exit (and a py-spy around it to write its profile).
EXIT_GRACE_S = 120.0

# Note [Interleaved rounds]
# These machines are shared, and a neighbour's load changes step times by 2x or more within minutes.
# Cells run one after another in separate processes saw different minutes of the machine, and their
# ratio carried the change: seq_reverse tuned/PyTorch gave 6.99x, 0.33x and 4.69x in three runs of
# the quick config, each with a tight interval (it resampled steps, which all came from one minute).
# So the cells of a group start together and warm up, then take turns: each round runs one block of
# steps of every cell, the order rotating from round to round, so that every cell holds every place
# in the order equally often. A ratio then compares steps measured seconds apart, and its interval
# resamples rounds (compare.ratio_ci), so a change of load between rounds widens the interval instead
# of hiding behind it. Each cell keeps its own process (policies fixed at first use, such as
# alloc.cuda, can differ between cells); a process waiting for its turn blocks on a pipe.


class CellFailed(Exception):
    pass


class CellProcess:
    """A cell's process (experiments/cell.py) and the line protocol to it. Every wait (warm-up, a
    block, the record) is bounded by `timeout_s`; a process past it is killed."""

    def __init__(self, key: str, cmd: list, env: dict, timeout_s: float | None, on_step):
        self.key, self.timeout_s, self.on_step = key, timeout_s, on_step
        self._err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True,
                                     bufsize=1, env=env)
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, tag: str) -> str:
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while True:
            try:
                line = self._lines.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise CellFailed(f"cell killed after {self.timeout_s:.0f} s (cell_timeout_s) waiting for {tag}") from None
            if line is None:
                raise CellFailed(f"cell process exited with code {self.proc.wait()} before {tag}")
            if line.startswith("@@STEP@@"):
                self.on_step()
            elif line.startswith(tag):
                return line[len(tag):].strip()

    def ask(self, command: str, tag: str) -> str:
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise CellFailed(f"cell process exited with code {self.proc.wait()} before {command!r}") from None
        return self.wait_for(tag)

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read()

    def close(self, grace_s: float = 0.0):
        """Ends the process: a cell that gave its record exits by itself, and a wrapper around it (py-spy)
        then writes its profile, so `grace_s` lets it finish before the kill; a failed cell gets none."""
        try:
            self.proc.wait(timeout=grace_s) if grace_s > 0 else None
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def block_sizes(steps: int, rounds: int) -> list:
    """`steps` timed steps split into `rounds` blocks as even as they go (at most `steps` rounds)."""
    rounds = max(1, min(rounds, steps))
    base, extra = divmod(steps, rounds)
    return [base + (i < extra) for i in range(rounds)]


def run_group(commands: dict, steps: int, rounds: int, timeout_s: float | None, env: dict, on_step=None,
              on_round=None) -> tuple:
    """Runs the cells `commands` ({cell key: argv}) interleaved in rounds. Returns ({key: record} of
    the cells that finished, {key: error text} of those that failed); each record says how it was
    measured (method, group_id, rounds, its place in each round's order)."""
    group_id = uuid.uuid4().hex[:12]
    procs, failed, positions, records = {}, {}, {k: [] for k in commands}, {}
    try:
        for key, cmd in commands.items():  # all start and warm up together; no step is timed yet
            procs[key] = CellProcess(key, cmd, env, timeout_s, on_step or (lambda: None))

        def guarded(key, command, tag):
            try:
                return procs[key].wait_for(tag) if command is None else procs[key].ask(command, tag)
            except CellFailed as e:
                failed[key] = f"{procs[key].stderr()[-4000:]}\n{e}"
                procs[key].close()
                return None

        for key in commands:
            guarded(key, None, "@@READY@@")
        sizes = block_sizes(steps, rounds)
        for r, n in enumerate(sizes):
            alive = [k for k in commands if k not in failed]
            if not alive:
                break
            turn = r % len(alive)
            medians = {}
            for place, key in enumerate(alive[turn:] + alive[:turn]):
                got = guarded(key, f"block {n}", "@@BLOCK@@")
                if got is not None:
                    medians[key] = float(got)
                    positions[key].append(place)
            if on_round:
                on_round(r, len(sizes), medians)
        for key in commands:
            if key in failed:
                continue
            got = guarded(key, "record", "@@RESULT@@")
            if got is not None:
                rec = json.JSONDecoder().raw_decode(got)[0]
                rec.update(method="interleaved_rounds", group_id=group_id, group_cells=list(commands),
                           rounds=len(sizes), round_places=positions[key])
                records[key] = rec
        return records, failed
    finally:
        for key, p in procs.items():
            p.close(EXIT_GRACE_S if key in records else 0.0)
