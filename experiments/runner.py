"""Runs one cell (workload x framework x policy set x device) and returns its result record.

A cell runs in three phases (Note [Runner phases]): the timed steps, then for vibetensor a few
probe steps with counters and lock statistics on, then on a GPU a few steps under CUPTI kernel
activity for the GPU busy fraction. Only the timed steps give the step times and losses."""
import dataclasses
import importlib
import statistics
import sys
import time

from vibetensor.experiments import config, provenance
from vibetensor.experiments.workloads import registry
from vibetensor.experiments.workloads.phases import phase

FRAMEWORKS = ("vibetensor", "torch")
PROBE_POLICIES = ("probes.counters", "probes.locks")
TOP_LOCKS = 3

# Note [Runner phases]
# Probes cost little but not nothing, so the timed steps run with the probe policies as the
# policy set has them (all off in both presets) and the probe columns come from extra steps run
# afterwards: `probe_steps` steps with probes.counters and probes.locks on, averaged per step
# (ops dispatched, name lookups, allocator calls, threads created, lock waits). The sync ledger
# counts always (csrc/cuda/sync_ledger.h), so syncs per step come from the timed steps themselves;
# they include the upload of the batch in next_batch(). The GPU busy fraction (kernel busy time /
# wall time) comes from `gpu_steps` further steps under vibetensor.probes.cupti.KernelActivity,
# for PyTorch as well; without CUPTI it is recorded as null with the reason. Extra steps keep
# training the model, so their losses are not part of the record's loss curve.


def import_framework(name: str):
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}: expected one of {list(FRAMEWORKS)}")
    return importlib.import_module(name)


def _one_step(wl, augment):
    """(loss, step seconds, augmentation seconds): the batch is drawn untimed; a workload's CPU
    augmentation, when on, is timed as part of the step (Note [ViT step timing])."""
    batch = wl.next_batch()
    with phase(getattr(wl, "fw", None), "step"):  # what is timed: Note [Step ranges]
        t0 = time.perf_counter()
        if augment is not None:
            batch = augment(batch)
        t1 = time.perf_counter()
        loss = wl.step(batch)
        t2 = time.perf_counter()
    return loss, t2 - t0, t1 - t0


def _sync_ledger(fw, framework):
    if framework != "vibetensor" or not fw.cuda.is_built():
        return None
    return fw.cuda.sync_ledger()


def _per_step(after: dict, before: dict, steps: int) -> dict:
    return {k: (v - before.get(k, 0)) / steps for k, v in sorted(after.items()) if v != before.get(k, 0)}


def probe_steps_record(fw, wl, augment, steps: int) -> dict:
    """Per-step counters and the top lock waits over `steps` extra steps with probes on."""
    from vibetensor import probes  # only vibetensor cells have probes

    with fw.policy.override({p: "on" for p in PROBE_POLICIES}):
        before = probes.snapshot()
        for _ in range(steps):
            _one_step(wl, augment)
        d = probes.diff(before, probes.snapshot())
    counters = {name: value / steps for name, value in zip(d.counters["name"], d.counters["value"])}
    locks = d.locks.sort_values("wait_total_ns", ascending=False, kind="stable").head(TOP_LOCKS)
    top = [{"name": r.name, "wait_ms_per_step": r.wait_total_ns / steps / 1e6,
            "contentions_per_step": r.contentions / steps, "acquisitions_per_step": r.acquisitions / steps}
           for r in locks.itertuples() if r.acquisitions > 0]
    return {"steps": steps, "counters_per_step": counters, "top_lock_waits": top}


def _cupti_availability():
    """(KernelActivity class or None, reason when None)."""
    try:
        from vibetensor.probes import cupti
    except ImportError as e:
        return None, f"vibetensor.probes.cupti cannot be imported ({e})"
    if not hasattr(cupti, "available") or not hasattr(cupti, "KernelActivity"):
        return None, "vibetensor.probes.cupti has no available()/KernelActivity in this build"
    res = cupti.available()
    ok, reason = (res[0], res[1] if len(res) > 1 else None) if isinstance(res, tuple) else (bool(res), None)
    if not ok:
        return None, reason or getattr(cupti, "unavailable_reason", None) or "CUPTI is unavailable"
    return cupti.KernelActivity, None


def gpu_activity_record(wl, augment, device: str, steps: int) -> dict:
    """GPU busy fraction over `steps` extra steps (each reads its loss back, so the GPU work of
    a step is done when it returns), or null with the reason."""
    if not device.startswith("cuda"):
        return {"busy_fraction": None, "reason": f"device {device} is not a GPU"}
    if steps <= 0:
        return {"busy_fraction": None, "reason": "gpu_steps = 0"}
    activity_cls, reason = _cupti_availability()
    if activity_cls is None:
        return {"busy_fraction": None, "reason": reason}
    try:
        activity_ctx = activity_cls()
    except RuntimeError as e:  # e.g. Note [CUPTI and autograd.gil=held]
        return {"busy_fraction": None, "reason": str(e)}
    with activity_ctx as activity:
        t0 = time.perf_counter_ns()
        for _ in range(steps):
            _one_step(wl, augment)
        wall_ns = time.perf_counter_ns() - t0
    return {"busy_fraction": activity.busy_ns / wall_ns, "busy_ms_per_step": activity.busy_ns / steps / 1e6,
            "kernels_per_step": activity.kernel_count / steps, "wall_ms_per_step": wall_ns / steps / 1e6,
            "steps": steps, "collector": getattr(activity, "backend", "cupti-python"),
            "dropped_records": getattr(activity, "dropped_records", 0)}


def workload_options(workload: str, options: dict | None, warmup: int, steps: int, capture: bool = False,
                     rank: int = 0) -> dict:
    """The options of a cell: a schedule's period defaults to the steps the cell trains; a captured
    step's optimizer keeps its step count on the device (capturable); rank r of a data-parallel cell
    draws its own batches (the seed plus r, Note [Data-parallel cells])."""
    options = dict(options or {})
    cfg = registry.make_config(workload, options)
    fields = {f.name for f in dataclasses.fields(type(cfg))}
    if rank and "seed" in fields:
        options["seed"] = cfg.seed + rank
    if "schedule_steps" in fields:
        options.setdefault("schedule_steps", warmup + steps)
    if capture and "capturable" in fields:
        options["capturable"] = True
    return options


# Note [Captured steps in the runner]
# Under step.capture=graph (vibetensor cells) the runner calls the workload's train_step (device
# tensors in, the loss tensor out, nothing read on the host) through vt.cuda.graphed_step: the cell's
# warm-up steps but the last run eagerly (optimizer state, kernels), the last one captures the step
# and replays it, and every later step copies its batch into the graph's static inputs, replays the
# graph and reads the loss back, as the eager step does (Note [Whole-step capture]). The cell trains
# as many steps as its eager twin. A workload without train_step, or a cell off CUDA, is refused
# with the reason.
def capture_step(fw, wl, workload: str, device: str):
    """wl.train_step replaced by its graphed self (Note [Captured steps in the runner])."""
    if not str(device).startswith("cuda"):
        raise ValueError(f"step.capture=graph captures CUDA work; the cell of {workload} runs on {device}")
    if not hasattr(wl, "train_step"):
        raise ValueError(f"step.capture=graph: workload {workload} has no train_step (its step reads host data, e.g. "
                         "a CPU augmentation or a host-side learning-rate schedule, so it cannot be captured whole)")
    graphed = fw.cuda.graphed_step(wl.train_step, warmup=0)
    wl.train_step = graphed  # the workload's step calls it, then reads the loss back
    return graphed


def _suite_for(policy: dict):
    """vibetensor.kernels.suite when the cell runs a suite backend (its compiler registered), else None."""
    if policy.get("kernels.backend", "native") == "native":
        return None
    from vibetensor.kernels import suite

    suite.install()
    suite.reset_report()
    return suite


def _suite_warmup(suite) -> dict:
    """What the warm-up steps compiled or read from the disk cache, and ran; the report restarts so
    the timed steps' own launches and fallbacks are recorded apart."""
    if suite is None:
        return {}
    from vibetensor.kernels import triton_compiler

    events = triton_compiler.events()
    compiled = [e for e in events if e["source"] != "disk"]
    print(f"kernel suite: the warm-up compiled {len(compiled)} kernel specializations "
          f"({sum(e['seconds'] for e in compiled):.1f} s) and read {len(events) - len(compiled)} from the disk cache",
          file=sys.stderr, flush=True)
    record = {"warmup_compiles": events, "warmup": suite.report()}
    suite.reset_report()
    return record


class CellSession:
    """One cell built and warmed up in this process: the framework with the cell's policies, the
    workload, `warmup` untimed steps. Its timed steps then run in blocks (`block`), so a driver can
    interleave the blocks of several cells' processes in rounds (Note [Interleaved rounds]); `record`
    runs the probe and GPU steps and returns the cell's result record. Every step's loss is read
    back, as the reference workloads do."""

    def __init__(self, workload: str, framework: str, device: str = "cpu", steps: int = 50, warmup: int = 3,
                 policy: dict | None = None, options: dict | None = None, threads: int | None = None, on_step=None,
                 data_parallel: bool = False):
        self.fw = fw = import_framework(framework)
        self.workload, self.framework, self.device = workload, framework, device
        self.warmup, self.on_step = warmup, on_step
        if threads:  # intra-op threads of the CPU kernels, the same for both frameworks
            fw.set_num_threads(threads)
        self.threads = fw.get_num_threads()
        self.policy = {}
        if framework == "vibetensor":
            plain, family_backends = config.split_suite_backends(policy or {})
            spec = {"preset": "tuned", **plain}  # the preset first, then overrides
            fw.policy.apply_spec(",".join(f"{k}={v}" for k, v in spec.items()))
            self.policy = fw.policy.current()
            for family, _ in fw._C._suite_family_backends():  # a cell of this process before may have set some
                fw._C._suite_set_family_backend(family, None)
            if family_backends:  # Note [Backend per family]
                from vibetensor.kernels import suite as kernel_suite

                for family, backend in family_backends.items():
                    kernel_suite.set_family_backend(family, backend)
                self.policy.update({config.SUITE_PREFIX + f: b for f, b in family_backends.items()})
        self.suite = _suite_for(self.policy)
        self.started = provenance.now()
        capture = self.policy.get("step.capture") == "graph"
        self.rank = None  # this process's rank of a data-parallel cell (Note [Data-parallel cells])
        if data_parallel:
            from vibetensor.experiments.data_parallel import Rank

            self.rank = Rank(fw, device)
            self.device = device = self.rank.device
        self.wl = registry.build(workload, fw, device, workload_options(workload, options, warmup, steps, capture,
                                                                        self.rank.rank if self.rank else 0))
        if self.rank:
            self.rank.wrap(self.wl, workload)
        self.augment = self.wl.augment_batch if getattr(self.wl, "augments", False) else None
        self.graphed = None
        self.losses, self.times, self.aug_times, self.blocks = [], [], [], []
        if capture and warmup < 1:
            raise ValueError("step.capture=graph needs warmup >= 1: the last warm-up step is the one captured")
        for i in range(warmup):
            if capture and i == warmup - 1:  # Note [Captured steps in the runner]
                self.graphed = capture_step(fw, self.wl, workload, device)
            self._step(timed=False)
        self.suite_warmup = _suite_warmup(self.suite)
        self.ledger_before = _sync_ledger(fw, framework)

    def _step(self, timed: bool):
        loss, dt, da = _one_step(self.wl, self.augment)
        self.losses.append(loss)
        if timed:
            self.times.append(dt)
            self.aug_times.append(da)
        if self.on_step:
            self.on_step(len(self.losses) - 1)

    def block(self, steps: int) -> float:
        """Runs `steps` timed steps; returns their median step time in ms."""
        for _ in range(steps):
            self._step(timed=True)
        self.blocks.append(steps)
        return 1e3 * statistics.median(self.times[-steps:])

    def record(self, probe_steps: int = 5, gpu_steps: int = 5) -> dict:
        fw, framework, wl, times, steps = self.fw, self.framework, self.wl, self.times, len(self.times)
        ledger_after = _sync_ledger(fw, framework)
        syncs = _per_step(ledger_after, self.ledger_before, steps) if ledger_after is not None and steps else None
        if framework == "vibetensor" and probe_steps > 0:
            probes = probe_steps_record(fw, wl, self.augment, probe_steps)
        else:
            probes = {"steps": 0, "reason": "probes are vibetensor's" if framework != "vibetensor" else "probe_steps = 0"}
        record = {
            "workload": self.workload, **provenance.framework_info(framework, fw),
            **provenance.machine_info(self.device, framework, fw), **provenance.git_state(), "policy": self.policy,
            "threads": self.threads, "seed": wl.cfg.seed, "steps": steps, "warmup": self.warmup,
            "data": getattr(wl, "data_source", "synthetic"), "workload_config": dataclasses.asdict(wl.cfg),
            "losses": self.losses, "step_times_s": times, "blocks": self.blocks,
            "median_step_ms": 1e3 * statistics.median(times),
            "syncs_per_step": syncs, "syncs_per_step_total": sum(syncs.values()) if syncs is not None else None,
            "probes": probes, "gpu_activity": gpu_activity_record(wl, self.augment, self.device, gpu_steps),
            "started": self.started, "finished": provenance.now(),
        }
        if self.rank is not None:
            record["data_parallel"] = self.rank.per_rank(times)
        if self.graphed is not None:
            record["capture"] = {"captures": self.graphed.captures, "replays": self.graphed.replays}
        if self.suite is not None:
            record["kernel_suite"] = {**self.suite_warmup, "timed_steps": self.suite.report()}
        if self.augment is not None:
            aug = self.aug_times
            record["augment_times_s"] = aug
            record["median_augment_ms"] = 1e3 * statistics.median(aug)
            record["median_step_ms_without_augment"] = 1e3 * statistics.median(t - a for t, a in zip(times, aug))
        return record

    def close(self):
        """Releases the workload's threads, if it has any (registry.close), and a data-parallel rank's group."""
        registry.close(self.wl)
        if self.rank is not None:
            self.rank.close()


def run_cell(workload: str, framework: str, device: str = "cpu", steps: int = 50, warmup: int = 3,
             policy: dict | None = None, on_step=None, options: dict | None = None, probe_steps: int = 5,
             gpu_steps: int = 5, threads: int | None = None) -> dict:
    """One cell alone in this process: `warmup` untimed steps, then `steps` timed ones in one block.
    Returns a record with per-step losses and times and the probe columns."""
    session = CellSession(workload, framework, device, steps, warmup, policy, options, threads, on_step)
    try:
        session.block(steps)
        return {**session.record(probe_steps, gpu_steps), "method": "single_block"}
    finally:
        session.close()
