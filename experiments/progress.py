"""Progress of `vibetensor run` on stderr. On a terminal: a tqdm bar when tqdm is installed, else a
line redrawn in place. Into a file or a pipe (a log, CI): whole lines, at most one every
`log_interval_s` seconds and one at the end, so a log stays a log and not one line of carriage
returns. Result lines (`write`) go to stdout in either case."""
import sys
import time

try:
    import tqdm as _tqdm
except ImportError:  # pragma: no cover - depends on the environment
    _tqdm = None


class Bar:
    """Progress over `total` items."""

    def __init__(self, total: int, unit: str, stream=None, log_interval_s: float = 30.0):
        self.total, self.unit, self.n, self.label = total, unit, 0, ""
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_interval_s, self._last_line = log_interval_s, time.monotonic()
        self._bar = (_tqdm.tqdm(total=total, unit=unit, file=self.stream, dynamic_ncols=True)
                     if self.tty and _tqdm else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        elif self.tty and self.n:
            self.stream.write("\n")
            self.stream.flush()

    def describe(self, label: str):
        self.label = label
        if self._bar is not None:
            self._bar.set_description(label, refresh=True)

    def update(self, n: int = 1):
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.tty:
            self.stream.write(f"\r{self.label} {self.n}/{self.total} {self.unit}\033[K")
            self.stream.flush()
        elif self.n >= self.total or time.monotonic() - self._last_line >= self.log_interval_s:
            self._last_line = time.monotonic()
            self.stream.write(f"progress: {self.label} {self.n}/{self.total} {self.unit}\n")
            self.stream.flush()

    def write(self, line: str):
        """A result line on stdout that does not break the bar."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stdout)
            return
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
        print(line, flush=True)
