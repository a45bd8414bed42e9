"""Results files (JSONL): one JSON record per line, rewritten atomically (temp file + rename) so a
killed run never leaves a half-written file, and finished cells are never lost."""
import json
import os
import tempfile


def read(path: str) -> list:
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: corrupt results line ({e})") from None
    return records


def append(path: str, record: dict) -> None:
    records = read(path) + [record]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".results-", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
