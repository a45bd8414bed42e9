"""The on-disk store of compiled suite kernels, shared between processes.

One entry is two files named by the specialization's key: ``<key>.cubin`` (the image) and
``<key>.json`` (its symbol, launch metadata and the image's SHA-256). See Note [Kernel disk cache].
"""
import hashlib
import json
import os
import tempfile
from pathlib import Path

# Note [Kernel disk cache]
# The key hashes everything that decides the image: the kernel's source and the sources of the
# functions it calls (Triton's JITFunction.cache_key), the Triton version, the signature, the
# constexprs, warps, stages and the compute capability. Entries are written to a temporary file and
# renamed, so a reader in another process sees a whole entry or none. A read checks that the
# metadata parses, names the key it was written for, and that the image's SHA-256 matches it; an
# entry that fails (a torn copy, a disk error, a hand edit) is reported as corrupt, removed and
# compiled again, never launched.


def default_dir():
    """$VT_KERNEL_CACHE, else $XDG_CACHE_HOME/vibetensor/kernels, else ~/.cache/vibetensor/kernels."""
    if os.environ.get("VT_KERNEL_CACHE"):
        return Path(os.environ["VT_KERNEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vibetensor" / "kernels"


def key_of(parts):
    """The hex SHA-256 of a JSON-able description of a specialization."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class CorruptEntry(Exception):
    """An entry whose files do not agree (the message says how)."""


class DiskCache:
    def __init__(self, directory=None):
        self.dir = Path(directory) if directory is not None else default_dir()

    def _paths(self, key):
        return self.dir / f"{key}.cubin", self.dir / f"{key}.json"

    def load(self, key):
        """(image bytes, metadata dict), or None when there is no entry; CorruptEntry when there is a
        damaged one (then its files are removed)."""
        image_path, meta_path = self._paths(key)
        if not meta_path.exists() and not image_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            image = image_path.read_bytes()
            if meta.get("key") != key:
                raise CorruptEntry(f"its metadata names key {meta.get('key')!r}")
            if hashlib.sha256(image).hexdigest() != meta.get("sha256"):
                raise CorruptEntry("the image does not match its SHA-256")
        except (OSError, ValueError, CorruptEntry) as e:
            self.remove(key)
            reason = e if isinstance(e, CorruptEntry) else CorruptEntry(f"{type(e).__name__}: {e}")
            raise reason from None
        return image, meta

    def store(self, key, image, meta):
        """Writes an entry atomically (image first, then the metadata that makes it valid)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        image_path, meta_path = self._paths(key)
        meta = dict(meta, key=key, sha256=hashlib.sha256(image).hexdigest())
        self._write(image_path, image)
        self._write(meta_path, json.dumps(meta, sort_keys=True, indent=1).encode())

    def remove(self, key):
        for p in self._paths(key):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def _write(self, path, data):
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
