"""The kernel cache (vibetensor.kernels.cache) under both kernels.cache mechanisms, observed through
the "kernels.cache" lock statistics and the kernel_cache_* counters. The cache is generic over its
compile function; here the compile function builds a real Python closure (CPU work), so the
mechanism runs exactly as it does for Triton kernels, minus the GPU."""
import threading
import time

import pytest

import vibetensor as vt
from vibetensor.kernels import cache as kcache
from _threads import run_in_threads

C = vt._C
N_THREADS = 8
LAUNCHES = 200


@pytest.fixture(autouse=True)
def probes_on():
    with vt.policy.override("probes.locks=on,probes.counters=on"):
        C._reset_counters()
        C._reset_lock_stats()
        yield
    C._reset_counters()
    C._reset_lock_stats()


def lock_row():
    row = next((r for r in C._lock_stats() if r["name"] == kcache.LOCK_NAME), None)
    assert row is not None, "the kernels.cache lock is not registered with the probes"
    return row


def counters():
    return dict(C._counters())


def scale_compiler(compiled):
    """Compile function: key ("scale", factor) -> a closure multiplying its argument; it records
    each compile and is slow enough that concurrent misses overlap."""
    def compile_fn(key, x):
        compiled.append(key)
        time.sleep(0.02)
        factor = key[1]
        return lambda x: x * factor
    return compile_fn


def hammer(cache, keys, launches=LAUNCHES):
    results = []
    barrier = threading.Barrier(N_THREADS)

    def work(i):
        barrier.wait()
        total = 0
        for j in range(launches):
            key = keys[(i + j) % len(keys)]
            total += cache.launch(key, j)
        results.append(total)

    run_in_threads(work, N_THREADS)
    return results


def expected_total(i, keys, launches=LAUNCHES):
    return sum(j * keys[(i + j) % len(keys)][1] for j in range(launches))


@pytest.mark.parametrize("mechanism", ["lockfree", "locked"])
def test_results_and_one_compile_per_key(mechanism):
    with vt.policy.override({"kernels.cache": mechanism}):
        compiled = []
        cache = kcache.KernelCache("scale", scale_compiler(compiled))
        keys = [("scale", 2), ("scale", 3), ("scale", 5)]
        results = hammer(cache, keys)
        assert sorted(results) == sorted(expected_total(i, keys) for i in range(N_THREADS))
        # however many threads missed at once, each key compiled exactly once
        assert sorted(compiled) == sorted(keys) and len(cache) == 3
        c = counters()
        total = N_THREADS * LAUNCHES
        assert c["kernel_compiles"] == 3
        assert c["kernel_cache_hits"] + c["kernel_cache_misses"] == total
        assert 3 <= c["kernel_cache_misses"] <= N_THREADS * 3


def test_locked_takes_the_global_lock_on_every_launch_and_contends():
    with vt.policy.override({"kernels.cache": "locked"}):
        cache = kcache.KernelCache("scale", scale_compiler([]))
        hammer(cache, [("scale", 2)])
        row = lock_row()
        assert row["acquisitions"] == N_THREADS * LAUNCHES
        # eight threads through one lock, one of them compiling for 20 ms while holding it
        assert row["contentions"] >= 1 and row["wait_total_ns"] > 0 and row["hold_max_ns"] >= 10_000_000


def test_lockfree_never_takes_the_global_lock():
    with vt.policy.override({"kernels.cache": "lockfree"}):
        cache = kcache.KernelCache("scale", scale_compiler([]))
        hammer(cache, [("scale", 2), ("scale", 7)])
        row = lock_row()
        assert row["acquisitions"] == 0 and row["contentions"] == 0
        assert counters()["kernel_cache_hits"] >= N_THREADS * LAUNCHES - N_THREADS * 2


def test_policy_is_read_at_every_launch():
    cache = kcache.KernelCache("scale", scale_compiler([]))
    with vt.policy.override({"kernels.cache": "lockfree"}):
        for j in range(5):
            assert cache.launch(("scale", 4), j) == 4 * j
        assert lock_row()["acquisitions"] == 0
        with vt.policy.override({"kernels.cache": "locked"}):
            for j in range(5):
                cache.launch(("scale", 4), j)
            assert lock_row()["acquisitions"] == 5
            c = counters()
            assert (c["kernel_cache_misses"], c["kernel_cache_hits"], c["kernel_compiles"]) == (1, 9, 1)


def test_probes_off_record_nothing():
    with vt.policy.override("kernels.cache=locked,probes.locks=off,probes.counters=off"):
        cache = kcache.KernelCache("scale", scale_compiler([]))
        for j in range(5):
            cache.launch(("scale", 4), j)
        assert lock_row()["acquisitions"] == 0
        assert counters()["kernel_cache_hits"] == 0 and counters()["kernel_cache_misses"] == 0


def test_reentrant_launch_under_locked_is_an_error_not_a_deadlock():
    with vt.policy.override({"kernels.cache": "locked"}):
        inner = kcache.KernelCache("inner", scale_compiler([]))
        outer = kcache.KernelCache("outer", lambda key, x: (lambda x: inner.launch(("scale", 2), x)))
        with pytest.raises(RuntimeError, match="not re-entrant"):
            outer.launch(("outer", 1), 3)
        # the lock was released on the error path: a later launch works
        assert inner.launch(("scale", 2), 3) == 6
        with vt.policy.override({"kernels.cache": "lockfree"}):
            assert outer.launch(("outer", 1), 3) == 6


def test_compile_errors_propagate_and_are_retried():
    calls = []

    def flaky(key, x):
        calls.append(key)
        if len(calls) == 1:
            raise ValueError("compile failed")
        return lambda x: x + 1

    for mechanism in ("lockfree", "locked"):
        with vt.policy.override({"kernels.cache": mechanism}):
            calls.clear()
            cache = kcache.KernelCache("flaky", flaky)
            with pytest.raises(ValueError, match="compile failed"):
                cache.launch("k", 1)
            assert "k" not in cache
            assert cache.launch("k", 1) == 2 and len(calls) == 2


def test_bad_compile_functions():
    with pytest.raises(TypeError, match="compile_fn must be callable"):
        kcache.KernelCache("bad", 3)
    cache = kcache.KernelCache("bad", lambda key: 42)
    with pytest.raises(TypeError, match="expected a callable launcher"):
        cache.launch("k")


def test_instrumented_lock_from_python():
    lock = C._InstrumentedLock("test.kernel_cache.python_lock")
    assert lock.name == "test.kernel_cache.python_lock"
    with lock:
        assert lock.held_by_me()
    assert not lock.held_by_me()
    with pytest.raises(RuntimeError, match="does not hold it"):
        lock.release()
    row = next(r for r in C._lock_stats() if r["name"] == "test.kernel_cache.python_lock")
    assert row["acquisitions"] == 1


def test_count_rejects_unknown_counters():
    with pytest.raises(ValueError, match="unknown probe counter 'nope'"):
        C._count("nope")
    C._count("kernel_compiles", 2)
    assert counters()["kernel_compiles"] == 2


def test_triton_ops_import_without_triton():
    from vibetensor.kernels import triton_ops, triton_runtime

    if triton_runtime.triton is None or not vt.cuda.is_available():
        x = vt.ones(4)
        with pytest.raises(RuntimeError, match="Triton|CUDA"):
            triton_ops.sgd_step(x, x, None, lr=0.1, momentum=0, dampening=0, weight_decay=0, nesterov=False)


def test_fused_optimizer_rejects_integer_params():
    # The fused steps are ops with CPU and CUDA kernels (tests/test_optim_fused.py): CPU floating
    # parameters are accepted, as in torch >= 2.4.
    p, q = vt.nn.Parameter(vt.ones(3)), vt.ones(3, dtype=vt.int64)
    for make in (lambda ps: vt.optim.AdamW(ps, fused=True), lambda ps: vt.optim.Adam(ps, fused=True),
                 lambda ps: vt.optim.SGD(ps, lr=0.1, fused=True)):
        assert make([p]).fused
        with pytest.raises(RuntimeError, match="supported devices"):
            make([q])
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        vt.optim.Adam([p], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="does not support `differentiable`"):
        vt.optim.SGD([p], lr=0.1, fused=True, differentiable=True)
