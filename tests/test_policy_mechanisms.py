"""Audit: every (policy, value) in the registry has a test that observes its effect through a probe
(a counter, a lock statistic, a thread count, an allocator statistic, the sync ledger), not just the
stored value. AUDIT maps each pair to that test ("file::test"); the tests below fill the pairs no
other file observed. test_audit_table_covers_the_registry fails when a policy or value is added to
the registry without an entry here."""
import os
import re

import pytest

import vibetensor as vt

C = vt._C
HERE = os.path.dirname(os.path.abspath(__file__))

ENGINE = "test_engine_policies.py"
ALLOC = "gpu/test_allocator.py"
THIS = "test_policy_mechanisms.py"
KCACHE = "test_kernel_cache.py"

AUDIT = {
    ("dispatch.lookup", "handle"): f"{ENGINE}::test_dispatch_lookup_locked_map_counts_name_lookups",
    ("dispatch.lookup", "locked_map"): f"{ENGINE}::test_dispatch_lookup_locked_map_counts_name_lookups",
    ("dispatch.stack_copy", "off"): f"{THIS}::test_stack_copy_copies_every_boxed_stack_only_when_on",
    ("dispatch.stack_copy", "on"): f"{THIS}::test_stack_copy_copies_every_boxed_stack_only_when_on",
    ("autograd.gate", "per_graph"): f"{ENGINE}::test_per_graph_gate_takes_a_lock_per_graph_and_not_the_global_one",
    ("autograd.gate", "none"): f"{THIS}::test_gate_none_takes_no_gate_lock",
    ("autograd.gate", "global"): f"{ENGINE}::test_global_gate_is_one_lock_taken_per_backward",
    ("autograd.gil", "released"): f"{THIS}::test_gil_released_records_no_gil_held_time",
    ("autograd.gil", "held"): f"{ENGINE}::test_gil_held_policy_still_computes_and_records_gil_time",
    ("autograd.workers", "caller"): f"{ENGINE}::test_spawn_creates_a_thread_per_backward_and_caller_none",
    ("autograd.workers", "pool"): f"{THIS}::test_pool_workers_are_created_once_not_per_backward",
    ("autograd.workers", "spawn"): f"{ENGINE}::test_spawn_creates_a_thread_per_backward_and_caller_none",
    ("autograd.routing", "worker"): f"{THIS}::test_worker_routing_bypasses_the_owner_queue",
    ("autograd.routing", "owner"): f"{ENGINE}::test_owner_routing_goes_through_the_owner_queue",
    ("alloc.cuda", "caching"): f"{ALLOC}::test_stress_no_overlap_no_leak",
    ("alloc.cuda", "async"): f"{ALLOC}::test_stress_no_overlap_no_leak",
    ("alloc.cuda", "direct"): f"{ALLOC}::test_stress_no_overlap_no_leak",
    ("alloc.split", "on"): f"{ALLOC}::test_split_policy",
    ("alloc.split", "off"): f"{ALLOC}::test_split_policy",
    ("alloc.segments", "batched"): f"{ALLOC}::test_segments_and_snapshot",
    ("alloc.segments", "per_request"): f"{ALLOC}::test_segments_and_snapshot",
    ("alloc.lock", "per_device"): f"{ALLOC}::test_lock_policy_global_takes_global_mutexes",
    ("alloc.lock", "global"): f"{ALLOC}::test_lock_policy_global_takes_global_mutexes",
    ("scalars.cuda", "kernel_arg"): "test_elementwise.py::test_scalars_device_copy_is_counted",
    ("scalars.cuda", "device_copy"): "test_elementwise.py::test_scalars_device_copy_is_counted",
    ("kernels.cache", "lockfree"): f"{KCACHE}::test_lockfree_never_takes_the_global_lock",
    ("kernels.cache", "locked"): f"{KCACHE}::test_locked_takes_the_global_lock_on_every_launch_and_contends",
    ("kernels.backend", "native"): "test_kernel_suite.py::test_backend_selection_and_fallback_report",
    ("kernels.backend", "triton"): "test_kernel_suite.py::test_backend_selection_and_fallback_report",
    ("kernels.backend", "cute"): "test_kernel_suite.py::test_a_backend_serves_only_the_families_its_compiler_has_kernels_for",
    ("autograd.executor", "engine"): "test_autograd_executor.py::test_python_executor_runs_every_node_and_counts_it",
    ("autograd.executor", "python"): "test_autograd_executor.py::test_python_executor_runs_every_node_and_counts_it",
    ("step.capture", "eager"): "test_step_capture.py::test_runner_refuses_capture_off_cuda_and_keeps_eager_steps",
    ("step.capture", "graph"): "gpu/test_step_capture_gpu.py::test_runner_captures_the_step_and_matches_eager",
    ("kernels.launch", "cpp"): "gpu/test_kernel_suite_gpu.py::test_python_launch_is_reported_by_path",
    ("kernels.launch", "python"): "gpu/test_kernel_suite_gpu.py::test_python_launch_goes_through_the_python_cache_and_its_lock",
    ("kernels.scope", "fused"): "gpu/test_suite_matmul_elementwise.py::test_fused_scope_leaves_matmul_and_arithmetic_native",
    ("kernels.scope", "all"): "gpu/test_suite_matmul_elementwise.py::test_a_training_step_matches_the_native_kernels",
    ("kernels.fp32_matmul", "cublas"): "kernels/test_triton_families.py::test_cpp_matmul_plan_precision_follows_kernels_fp32_matmul",
    ("kernels.fp32_matmul", "tf32x3"): "kernels/test_triton_families.py::test_cpp_matmul_plan_precision_follows_kernels_fp32_matmul",
    ("probes.nvtx", "off"): f"{THIS}::test_nvtx_levels_push_ranges_by_level",
    ("probes.nvtx", "coarse"): f"{THIS}::test_nvtx_levels_push_ranges_by_level",
    ("probes.nvtx", "fine"): f"{THIS}::test_nvtx_levels_push_ranges_by_level",
    ("comm.overlap", "bucketed"): "test_distributed_store.py::test_ddp_matches_one_process_on_the_whole_batch",
    ("comm.overlap", "after_backward"): "test_distributed_store.py::test_ddp_matches_one_process_on_the_whole_batch",
    ("comm.allreduce", "nccl"): "test_distributed_threads.py::test_the_group_collective_makes_no_ring_transfers",
    ("comm.allreduce", "ring"): "test_distributed_threads.py::test_the_ring_sends_each_chunk_to_the_next_rank_only",
    ("fabric.mode", "off"): "test_fabric.py::test_the_policy_decides_and_the_statistics_count_only_cross_device_ops",
    ("fabric.mode", "best_effort"): "test_fabric.py::test_the_policy_decides_and_the_statistics_count_only_cross_device_ops",
    ("fabric.mode", "dry_run"): "test_fabric.py::test_the_policy_decides_and_the_statistics_count_only_cross_device_ops",
    ("optim.step", "multi_tensor"): "test_optim_multi_tensor.py::test_policy_observed_in_ops_dispatched",
    ("optim.step", "per_param"): "test_optim_multi_tensor.py::test_policy_observed_in_ops_dispatched",
    ("checks.cuda_index", "device_assert"): "test_softmax_norm_loss.py::test_nll_loss_checks_add_no_host_sync_by_default",
    ("checks.cuda_index", "sync"): "test_softmax_norm_loss.py::test_nll_loss_target_out_of_bounds_raises_in_sync_mode",
    ("probes.locks", "off"): f"{THIS}::test_probes_locks_records_only_when_on",
    ("probes.locks", "on"): f"{THIS}::test_probes_locks_records_only_when_on",
    ("probes.counters", "off"): f"{THIS}::test_probes_counters_count_only_when_on",
    ("probes.counters", "on"): f"{THIS}::test_probes_counters_count_only_when_on",
    ("probes.trace", "off"): f"{THIS}::test_probes_trace_records_events_only_when_on",
    ("probes.trace", "on"): f"{THIS}::test_probes_trace_records_events_only_when_on",
}

# Pairs no probe can observe yet, with what it would take. Every None in AUDIT must be here.
GAPS = {
}


def test_audit_table_covers_the_registry():
    registry = {(row["name"], v) for row in C._policy_describe() for v in row["values"]}
    missing = sorted(registry - set(AUDIT))
    stale = sorted(set(AUDIT) - registry)
    assert not missing, f"policy values without an observing test in AUDIT: {missing}"
    assert not stale, f"AUDIT lists pairs the registry no longer has: {stale}"
    for (name, value), test in AUDIT.items():
        if test is None:
            assert name in GAPS, f"({name}, {value}) has no observing test and no entry in GAPS"


@pytest.mark.parametrize("pair", sorted(k for k, v in AUDIT.items() if v))
def test_audit_entries_name_existing_tests(pair):
    path, _, name = AUDIT[pair].partition("::")
    with open(os.path.join(HERE, path)) as f:
        source = f.read()
    assert re.search(rf"^def {re.escape(name)}\(", source, re.M), f"{AUDIT[pair]} does not exist"


# --- observing tests for the pairs no other file covers ------------------------------------------

pytestmark = pytest.mark.usefixtures("restore_policies")  # conftest.py


def backward_once(n=10):
    x = C._ops.full([4], 1.0)
    x.requires_grad = True
    y = x
    for _ in range(n):
        y = y * 1.5
    C._backward([y], [C._ops.full([4], 1.0)], False)
    return x


def lock_acquisitions(name):
    return sum(r["acquisitions"] for r in C._lock_stats() if r["name"] == name)


def counter(name):
    return dict(C._counters())[name]


def test_gate_none_takes_no_gate_lock():
    with vt.policy.override("probes.locks=on,autograd.gate=per_graph"):
        C._reset_lock_stats()
        backward_once()
        assert lock_acquisitions("autograd.gate.per_graph") == 1  # the probe sees a gate when there is one
        with vt.policy.override({"autograd.gate": "none"}):
            C._reset_lock_stats()
            for _ in range(3):
                backward_once()
            assert lock_acquisitions("autograd.gate.per_graph") == 0
            assert lock_acquisitions("autograd.gate.global") == 0


def test_gil_released_records_no_gil_held_time():
    with vt.policy.override("probes.counters=on,autograd.gil=held"):
        C._reset_counters()
        backward_once(50)
        assert counter("gil_held_ns") > 0
        with vt.policy.override({"autograd.gil": "released"}):
            C._reset_counters()
            backward_once(50)
            assert counter("gil_held_ns") == 0 and counter("backward_calls") == 1


def test_pool_workers_are_created_once_not_per_backward():
    with vt.policy.override("probes.counters=on,autograd.workers=pool"):
        backward_once()  # starts the pool if this process has not yet
        C._reset_counters()
        for _ in range(5):
            backward_once()
        assert counter("backward_calls") == 5
        assert counter("threads_created") == 0  # persistent workers: none created per backward
        with vt.policy.override({"autograd.workers": "spawn"}):
            for _ in range(5):
                backward_once()
            assert counter("threads_created") == 5


def test_worker_routing_bypasses_the_owner_queue():
    with vt.policy.override("probes.locks=on,autograd.routing=owner"):
        C._reset_lock_stats()
        backward_once(20)
        assert lock_acquisitions("autograd.owner_queue") >= 20
        with vt.policy.override({"autograd.routing": "worker"}):
            C._reset_lock_stats()
            backward_once(20)
            assert lock_acquisitions("autograd.owner_queue") == 0


def test_probes_locks_records_only_when_on():
    with vt.policy.override("autograd.gate=global,probes.locks=off"):
        C._reset_lock_stats()
        backward_once()
        assert lock_acquisitions("autograd.gate.global") == 0
        with vt.policy.override({"probes.locks": "on"}):
            backward_once()
            assert lock_acquisitions("autograd.gate.global") == 1


def test_probes_counters_count_only_when_on():
    a = C._ops.full([2], 1.0)
    with vt.policy.override({"probes.counters": "off"}):
        C._reset_counters()
        for _ in range(4):
            a + a
        assert counter("ops_dispatched") == 0
        with vt.policy.override({"probes.counters": "on"}):
            for _ in range(4):
                a + a
            assert counter("ops_dispatched") >= 4


def test_probes_trace_records_events_only_when_on():
    a = C._ops.full([2], 1.0)
    C._trace_drain()
    with vt.policy.override({"probes.trace": "off"}):
        for _ in range(4):
            a + a
        assert C._trace_drain() == []
        with vt.policy.override({"probes.trace": "on"}):
            for _ in range(4):
                a + a
            with vt.policy.override({"probes.trace": "off"}):
                events = C._trace_drain()
                assert len(events) >= 4 and all(e[1] >= e[0] for e in events)


def test_stack_copy_copies_every_boxed_stack_only_when_on():
    # off: every Python spelling takes the typed handle, so nothing is boxed; on: each takes
    # VibeTensor's boxed call and copies its stack (Note [One route from Python]).
    a, b = C._ops.full([2], 1.0), C._ops.full([2], 2.0)
    with vt.policy.override("probes.counters=on,dispatch.stack_copy=off"):
        C._reset_counters()
        for _ in range(3):
            C._ops.add(a, b)
            a + b
        assert counter("ops_dispatched") >= 6 and counter("boxed_calls") == 0 and counter("stack_copies") == 0
        with vt.policy.override({"dispatch.stack_copy": "on"}):
            C._reset_counters()
            for _ in range(3):
                C._ops.add(a, b)
                a + b
            assert counter("stack_copies") == counter("boxed_calls") >= 6


@pytest.mark.skipif(not C._nvtx_compiled(), reason="NVTX3 headers were not found at build time")
def test_nvtx_levels_push_ranges_by_level():
    pushed = {}
    for level in ("off", "coarse", "fine"):
        with vt.policy.override(f"probes.counters=on,probes.nvtx={level}"):
            C._reset_counters()
            backward_once(10)
            pushed[level] = counter("nvtx_ranges")
    assert pushed["off"] == 0
    assert pushed["coarse"] >= 1  # the backward engine's range
    assert pushed["fine"] > pushed["coarse"] + 10  # plus every op and node
