"""GPU kernel activity through CUPTI (the `cupti-python` package), on the trace clock.

start() returns None where there is no GPU or no cupti-python (with a warning when the caller
asked for GPU activity implicitly, an error when it required it)."""
import warnings


class _Collector:
    def __init__(self, cupti):
        self.cupti = cupti
        self.records = []
        cupti.activity_register_callbacks(self._buffer_requested, self._buffer_completed)
        cupti.activity_enable(cupti.ActivityKind.CONCURRENT_KERNEL)

    @staticmethod
    def _buffer_requested():
        return 8 * 1024 * 1024, 0

    def _buffer_completed(self, activities):
        for a in activities:
            if a.kind == self.cupti.ActivityKind.CONCURRENT_KERNEL:
                self.records.append((a.start, a.end, a.name, a.device_id, a.stream_id))

    def stop(self):
        self.cupti.activity_flush_all(1)
        self.cupti.activity_disable(self.cupti.ActivityKind.CONCURRENT_KERNEL)
        # CUPTI timestamps are CLOCK_MONOTONIC-based nanoseconds, the trace ring's clock.
        return list(self.records)


def start(required: bool = False):
    import vibetensor as vt

    missing = None
    if not vt.cuda.is_available():
        missing = "no CUDA GPU is available"
    else:
        try:
            from cupti import cupti  # cupti-python
        except ImportError:
            missing = "the cupti-python package is not installed (pip install cupti-python)"
    if missing:
        if required:
            raise RuntimeError(f"GPU activity was required for this trace, but {missing}")
        if vt.cuda.is_available():
            warnings.warn(f"trace: GPU kernels are not recorded because {missing}", RuntimeWarning, stacklevel=3)
        return None
    return _Collector(cupti)
