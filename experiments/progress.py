"""Progress of `vibetensor run`: tqdm bars when tqdm is installed, else plain progress lines on
stderr. Each cell runs in a child process that prints a @@STEP@@i/n line after every step."""
import subprocess
import sys
import tempfile
import threading

try:
    import tqdm as _tqdm
except ImportError:  # pragma: no cover - depends on the environment
    _tqdm = None


class Bar:
    """A progress bar over `total` items (tqdm, or a line per update)."""

    def __init__(self, total: int, unit: str, leave: bool = True, position: int = 0):
        self.total, self.unit, self.n, self.label = total, unit, 0, ""
        self._bar = _tqdm.tqdm(total=total, unit=unit, leave=leave, position=position, dynamic_ncols=True) if _tqdm else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()

    def describe(self, label: str):
        self.label = label
        if self._bar is not None:
            self._bar.set_description(label, refresh=True)

    def update(self, n: int = 1):
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        else:
            sys.stderr.write(f"\r{self.label} {self.n}/{self.total} {self.unit}")
            sys.stderr.flush()

    def write(self, line: str):
        """A line of output that does not break the bars."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stdout)
        else:
            sys.stderr.write("\r")
            print(line, flush=True)


def run_with_steps(cmd: list, steps: int, label: str, timeout_s: float | None = None, env: dict | None = None):
    """Runs a cell process, advancing a step bar on its @@STEP@@ lines; returns (returncode,
    stdout without the step lines, stderr). A process still running after timeout_s is killed
    (a hung cell must not stall the matrix) and its stderr says so."""
    kept = []
    killed = threading.Event()
    with tempfile.TemporaryFile(mode="w+") as err, Bar(steps, "steps", leave=False, position=1) as bar:
        bar.describe(label)
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1, env=env) as proc:
            timer = threading.Timer(timeout_s, lambda: (killed.set(), proc.kill())) if timeout_s else None
            if timer:
                timer.start()
            try:
                for line in proc.stdout:
                    if line.startswith("@@STEP@@"):
                        bar.update()
                    else:
                        kept.append(line)
                rc = proc.wait()
            finally:
                if timer:
                    timer.cancel()
        err.seek(0)
        stderr = err.read()
        if killed.is_set():
            stderr += f"\ncell killed after {timeout_s:.0f} s (cell_timeout_s)\n"
        return rc, "".join(kept), stderr
