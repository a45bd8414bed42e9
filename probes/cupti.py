"""GPU activity through CUPTI, on the trace ring's clock.

    if vt.probes.cupti.available():
        with vt.probes.cupti.KernelActivity() as act:
            step()
        act.kernel_count, act.busy_ns, act.span_ns, act.records

KernelActivity enables the CONCURRENT_KERNEL, MEMCPY and MEMSET activity kinds (and RUNTIME, for
the launch calls that link kernels to host ops by correlation id), synchronizes the devices and
flushes CUPTI's buffers on exit. It records through one of two backends (`act.backend`):
- "native": vibetensor's own collector (csrc/probes/cupti_activity.cpp) on the libcupti that
  find_libcupti() finds. Its buffer callbacks are C++, so it records under every policy (Note
  [Native CUPTI collector]). It is built where _C has the CUDA backend and CUPTI's headers.
- "cupti-python": the `cupti-python` package, whose buffer callbacks are Python functions: refused
  under the policies of Note [CUPTI and autograd.gil=held].
The first that works is taken; VT_CUPTI_BACKEND=native|cupti-python forces one. See Note [CUPTI
clock] for how GPU timestamps join the host's.
"""
import dataclasses
import importlib.util
import os
import re
import threading
import warnings

from vibetensor import _C

# Note [CUPTI clock]
# CUPTI stamps activity records with its own clock (cuptiGetTimestamp), which need not be the
# CLOCK_MONOTONIC clock of the trace rings (_C._trace_clock_ns, also time.monotonic_ns). We read
# both clocks back to back several times and keep the pair with the narrowest host bracket: the
# offset host - cupti is then known to within that bracket (a few hundred ns). It is measured on
# entry and on exit; records are shifted by the entry offset and the difference of the two is kept
# as `clock_drift_ns`, so a reader can tell whether the alignment held over the block.

_CLOCK_SAMPLES = 16


@dataclasses.dataclass(frozen=True)
class GpuRecord:
    """One kernel, memcpy or memset, with times on the trace clock (CLOCK_MONOTONIC ns)."""

    kind: str          # "kernel", "memcpy" or "memset"
    name: str          # kernel name; "Memcpy HtoD", "Memset" ... otherwise
    start_ns: int
    end_ns: int
    device: int
    stream: int
    correlation: int   # CUPTI correlation id: the same as the runtime call that launched it
    bytes: int = 0     # memcpy / memset size
    grid: tuple = ()
    block: tuple = ()


@dataclasses.dataclass(frozen=True)
class RuntimeRecord:
    """One CUDA runtime API call that launched GPU work (or synchronized), on the trace clock."""

    name: str
    start_ns: int
    end_ns: int
    thread_id: int     # CUPTI's thread id (pthread_self of the calling thread)
    correlation: int


BACKENDS = ("native", "cupti-python")
_LIBCUPTI_NAMES = ("libcupti.so.13", "libcupti.so.12", "libcupti.so")


def _import_cupti():
    from cupti import cupti  # the cupti-python package

    return cupti


def _loaded_libcupti() -> str | None:
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and os.path.basename(fields[5].strip()).startswith("libcupti.so"):
                    return fields[5].strip()
    except OSError:  # not Linux
        pass
    return None


def _package_dirs(name: str) -> list[str]:
    """Where package `name` is installed, without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec else []


def find_libcupti() -> str | None:
    """The libcupti for the native collector: one the process has loaded already (two copies must
    not both attach to the driver), else the first found in the nvidia wheels, triton's copy,
    $CUDA_HOME and /usr/local/cuda; None when there is none."""
    loaded = _loaded_libcupti()
    if loaded:
        return loaded
    dirs = [os.path.join(d, sub) for d in _package_dirs("nvidia") for sub in ("cu13/lib", "cuda_cupti/lib")]
    dirs += [os.path.join(d, "backends/nvidia/lib/cupti") for d in _package_dirs("triton")]
    roots = [r for r in (os.environ.get("CUDA_HOME"), "/usr/local/cuda") if r]
    dirs += [os.path.join(r, sub) for r in roots for sub in ("lib64", "lib", "extras/CUPTI/lib64")]
    for d in dirs:
        for name in _LIBCUPTI_NAMES:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                return path
    return None


_native_library = None  # the libcupti the native collector opened (kept for the process: it cannot unload)


def _native_reason() -> str | None:
    """Why the native collector cannot record here, or None (it has then opened libcupti)."""
    global _native_library
    if _native_library:
        return None
    status = _C._cupti_native_status()
    if status is not None:
        return f"the native collector is not built: {status}"
    path = find_libcupti()
    if path is None:
        return ("no libcupti was found for the native collector (none loaded, none in the nvidia or triton "
                "wheels, none in $CUDA_HOME or /usr/local/cuda): install it with `pip install nvidia-cuda-cupti`")
    try:
        _native_library = _C._cupti_native_open(path)
    except RuntimeError as e:
        return f"the native collector cannot use libcupti: {e}"
    return None


def _cupti_python_reason() -> str | None:
    try:
        _import_cupti()
    except ImportError as e:
        return f"the cupti-python package cannot be imported ({e}); install it with `pip install cupti-python`"
    except Exception as e:  # a cupti-python whose libcupti does not load
        return f"cupti-python failed to load libcupti ({type(e).__name__}: {e})"
    return None


def _forced_backend() -> str | None:
    forced = os.environ.get("VT_CUPTI_BACKEND", "")
    if forced and forced not in BACKENDS:
        raise ValueError(f"VT_CUPTI_BACKEND={forced!r} is not a CUPTI backend: expected 'native' or 'cupti-python' "
                         "(unset, the first that works)")
    return forced or None


def _choose_backend() -> tuple[str | None, str | None]:
    """(backend, None), or (None, why neither can record). A bad VT_CUPTI_BACKEND is a ValueError."""
    import vibetensor as vt

    forced = _forced_backend()
    if not vt.cuda.is_available():
        return None, "no CUDA GPU is available (vibetensor.cuda.is_available() is False)"
    reason_of = {"native": _native_reason, "cupti-python": _cupti_python_reason}
    if forced:
        reason = reason_of[forced]()
        return (None, f"VT_CUPTI_BACKEND={forced} forces that backend and {reason}") if reason else (forced, None)
    reasons = []
    for backend in BACKENDS:
        reason = reason_of[backend]()
        if reason is None:
            return backend, None
        reasons.append(reason)
    return None, "; and ".join(reasons)


def backend() -> str | None:
    """The backend KernelActivity records with here ("native" or "cupti-python"), or None."""
    return _choose_backend()[0]


def unavailable_reason() -> str | None:
    """Why GPU activity cannot be recorded here, or None when it can."""
    return _choose_backend()[1]


def available() -> bool:
    return unavailable_reason() is None


def clock_offset_ns(timestamp, samples: int = _CLOCK_SAMPLES) -> tuple[int, int]:
    """(host - cupti offset, uncertainty) in ns, from the narrowest of `samples` brackets;
    `timestamp()` reads CUPTI's clock (cupti.get_timestamp, _C._cupti_native_timestamp)."""
    best = None
    for _ in range(samples):
        h0 = _C._trace_clock_ns()
        c = timestamp()
        h1 = _C._trace_clock_ns()
        if best is None or h1 - h0 < best[1]:
            best = ((h0 + h1) // 2 - c, h1 - h0)
    return best


# CUPTI has one activity-callback registration per process: one KernelActivity at a time.
_active_lock = threading.Lock()

_GPU_KINDS = ("CONCURRENT_KERNEL", "MEMCPY", "MEMSET")
# Runtime calls worth keeping on the host timeline: those that launch GPU work or block on it.
_KEPT_RUNTIME_PREFIXES = ("cudaLaunch", "cudaMemcpy", "cudaMemset", "cudaStreamSynchronize",
                          "cudaDeviceSynchronize", "cudaEventSynchronize", "cudaStreamWaitEvent", "cudaMalloc",
                          "cudaFree")


def gil_hazard(backend: str = "cupti-python"):
    """Why `backend` cannot record under the policies in force, or None.

    Note [CUPTI and autograd.gil=held]
    cupti-python calls its buffer callbacks (Python functions) from the threads that launch GPU
    work, so they need the GIL. Under autograd.gil=held the thread that called backward keeps the
    GIL while it waits for the engine's other threads (autograd.workers=pool/spawn, or the owner
    thread of autograd.routing=owner); when one of them launches a kernel and CUPTI asks for a
    buffer, each waits for the other forever. (The same composition would deadlock any Python
    callback from a kernel-launching thread: a VibeTensor hazard, not a CUPTI bug.) The native
    backend's callbacks are C++ and never take the GIL (Note [Native CUPTI collector] in
    csrc/probes/cupti_activity.cpp), so the hazard is the cupti-python backend's only: with the
    native collector built and a libcupti present, every policy records."""
    if backend == "native":
        return None
    get = _C._policy_get
    if get("autograd.gil") != "held":
        return None
    others = [f"autograd.workers={get('autograd.workers')}"] if get("autograd.workers") != "caller" else []
    if get("autograd.routing") == "owner":
        others.append("autograd.routing=owner")
    if not others:
        return None
    return ("autograd.gil=held keeps the GIL on the thread that waits for the backward's other threads (" +
            ", ".join(others) + "), and cupti-python calls its Python buffer callbacks from the threads that launch "
            "kernels: they would wait for each other forever (Note [CUPTI and autograd.gil=held]); " +
            _why_not_native())


def _why_not_native() -> str:
    """Why cupti-python records instead of the native collector, which has no GIL hazard."""
    if _forced_backend() == "cupti-python":
        return "VT_CUPTI_BACKEND=cupti-python forces it over the native collector, which has no such hazard"
    reason = _native_reason()
    if reason is None:
        return "the native collector, which KernelActivity takes here, has no such hazard"
    return f"the native collector would have no such hazard, but {reason}"


class KernelActivity:
    """Context manager that records GPU kernels, memcpys and memsets (and their launch calls)."""

    def __init__(self, runtime: bool = True, buffer_bytes: int = 8 << 20):
        backend, reason = _choose_backend()
        if reason:
            raise RuntimeError(f"KernelActivity needs CUPTI, but {reason}")
        hazard = gil_hazard(backend)
        if hazard:
            raise RuntimeError(f"KernelActivity cannot record: {hazard}")
        self.backend = backend  # "native" or "cupti-python"
        self._native = backend == "native"
        self._cupti = None if self._native else _import_cupti()
        self._timestamp = _C._cupti_native_timestamp if self._native else self._cupti.get_timestamp
        self._runtime = runtime
        self._buffer_bytes = buffer_bytes
        self._raw = []          # activity records as CUPTI delivered them (converted on exit)
        self._raw_lock = threading.Lock()
        self._kinds = []            # cupti-python: the activity kinds enabled
        self._native_started = False
        self.records: list[GpuRecord] = []
        self.runtime_records: list[RuntimeRecord] = []
        self.clock_offset_ns = 0
        self.clock_uncertainty_ns = 0
        self.clock_drift_ns = 0
        self.dropped_records = None  # records CUPTI dropped (native backend only)

    # cupti-python calls these from CUPTI's threads and kernel-launching threads, with the GIL.
    def _buffer_requested(self):
        return self._buffer_bytes, 0

    def _buffer_completed(self, activities):
        cupti = self._cupti
        kept = []
        for a in activities:
            k = a.kind
            if k == cupti.ActivityKind.CONCURRENT_KERNEL:
                kept.append(("kernel", a.name, a.start, a.end, a.device_id, a.stream_id, a.correlation_id, 0,
                             (a.grid_x, a.grid_y, a.grid_z), (a.block_x, a.block_y, a.block_z)))
            elif k == cupti.ActivityKind.MEMCPY:
                kind = cupti.ActivityMemcpyKind(a.copy_kind).name
                kept.append(("memcpy", f"Memcpy {kind[:1]}to{kind[-1:]}" if "TO" in kind else f"Memcpy {kind}",
                             a.start, a.end, a.device_id, a.stream_id, a.correlation_id, a.bytes, (), ()))
            elif k == cupti.ActivityKind.MEMSET:
                kept.append(("memset", "Memset", a.start, a.end, a.device_id, a.stream_id, a.correlation_id, a.bytes,
                             (), ()))
            elif k == cupti.ActivityKind.RUNTIME:
                kept.append(("runtime", a.cbid, a.start, a.end, a.thread_id, a.correlation_id))
        with self._raw_lock:
            self._raw.extend(kept)

    def __enter__(self):
        if not _active_lock.acquire(blocking=False):
            raise RuntimeError("KernelActivity: another KernelActivity (or trace with GPU activity) is already "
                               "recording; CUPTI allows one per process")
        try:
            if self._native:
                _C._cupti_native_start(self._runtime, self._buffer_bytes)
                self._native_started = True
            else:
                cupti = self._cupti
                cupti.activity_register_callbacks(self._buffer_requested, self._buffer_completed)
                kinds = [getattr(cupti.ActivityKind, k) for k in _GPU_KINDS]
                if self._runtime:
                    kinds.append(cupti.ActivityKind.RUNTIME)
                for k in kinds:
                    cupti.activity_enable(k)
                    self._kinds.append(k)
            self.clock_offset_ns, self.clock_uncertainty_ns = clock_offset_ns(self._timestamp)
        except BaseException:
            self._disable()
            _active_lock.release()
            raise
        return self

    def _disable(self) -> list:
        """Ends recording. Returns the native collector's raw records (its stop flushes);
        cupti-python's arrive through _buffer_completed."""
        if self._native:
            started, self._native_started = self._native_started, False
            return _C._cupti_native_stop() if started else []
        for k in self._kinds:
            self._cupti.activity_disable(k)
        self._kinds = []
        return []

    def __exit__(self, *exc):
        import vibetensor as vt

        try:
            try:
                # Work launched inside the block must finish before its records can be flushed.
                for d in range(vt.cuda.device_count()):
                    vt.cuda.synchronize(d)
                if not self._native:
                    self._cupti.activity_flush_all(1)  # 1 = CUPTI_ACTIVITY_FLAG_FLUSH_FORCED
                offset_end, _ = clock_offset_ns(self._timestamp)
                self.clock_drift_ns = offset_end - self.clock_offset_ns
            finally:
                raw = self._disable()  # even when the block's GPU work failed: the next one must start
        finally:
            _active_lock.release()
        if self._native:
            self.dropped_records = _C._cupti_native_dropped()
            with self._raw_lock:
                self._raw.extend(raw)
        self._convert()
        return False

    def _convert(self):
        off = self.clock_offset_ns
        names = {}
        with self._raw_lock:
            raw, self._raw = self._raw, []
        gpu, runtime = [], []
        for r in raw:
            if r[0] == "runtime":
                _, cbid, s, e, tid, corr = r
                if cbid not in names:
                    names[cbid] = self._runtime_name(cbid)
                runtime.append(RuntimeRecord(names[cbid], s + off, e + off, tid, corr))
            else:
                kind, name, s, e, dev, stream, corr, nbytes, grid, block = r
                gpu.append(GpuRecord(kind, name, s + off, e + off, dev, stream, corr, nbytes, grid, block))
        launched = {g.correlation for g in gpu}
        self.records = sorted(gpu, key=lambda g: g.start_ns)
        self.runtime_records = sorted((r for r in runtime if r.correlation in launched
                                       or r.name.startswith(_KEPT_RUNTIME_PREFIXES)), key=lambda r: r.start_ns)

    def _runtime_name(self, cbid) -> str:
        try:
            if self._native:
                name = _C._cupti_native_callback_name(cbid)
            else:
                name = self._cupti.get_callback_name(self._cupti.CallbackDomain.RUNTIME_API, cbid)
        except Exception:
            return f"cudaRuntimeApi_{cbid}"
        return re.sub(r"_v\d+$", "", str(name))  # cudaLaunchKernel_v7000 -> cudaLaunchKernel, as Kineto shows it

    @property
    def kernels(self) -> list[GpuRecord]:
        return [r for r in self.records if r.kind == "kernel"]

    @property
    def kernel_count(self) -> int:
        return sum(1 for r in self.records if r.kind == "kernel")

    @property
    def busy_ns(self) -> int:
        """Time at least one kernel ran (union over streams and devices, not the sum)."""
        from vibetensor.probes.trace import union_ns

        return union_ns(sorted((r.start_ns, r.end_ns) for r in self.records if r.kind == "kernel"))

    @property
    def span_ns(self) -> int:
        """From the first GPU record's start to the last one's end."""
        if not self.records:
            return 0
        return max(r.end_ns for r in self.records) - min(r.start_ns for r in self.records)


def start(required: bool = False):
    """A started KernelActivity for vt.probes.trace, or None where CUPTI cannot record: an error
    naming what is missing when `required`, a warning when a GPU is present without a backend."""
    import vibetensor as vt

    backend, reason = _choose_backend()
    hazard = None if reason else gil_hazard(backend)
    if hazard:
        if required:
            raise RuntimeError(f"GPU activity was required for this trace (cupti=True), but {hazard}")
        warnings.warn(f"trace: GPU kernels are not recorded because {hazard}", RuntimeWarning, stacklevel=3)
        return None
    if reason:
        if required:
            raise RuntimeError(f"GPU activity was required for this trace (cupti=True), but {reason}")
        if vt.cuda.is_available():
            warnings.warn(f"trace: GPU kernels are not recorded because {reason}", RuntimeWarning, stacklevel=3)
        return None
    return KernelActivity().__enter__()
