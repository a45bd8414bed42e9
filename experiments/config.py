"""Experiment configs (TOML): workloads x frameworks x policy sets x device x steps x repeats.

    [run]
    workloads = ["seq_reverse"]
    frameworks = ["torch", "vibetensor"]
    device = "auto"          # "cpu", "cuda", or "auto" (cuda when a GPU is present)
    steps = 50
    warmup = 3
    repeats = 1
    rounds = 10              # a group's cells take turns in this many blocks (Note [Interleaved rounds])
    threads = 0              # intra-op CPU threads of both frameworks (0: each framework's default)
    probe_steps = 5          # vibetensor: extra steps with probe counters and lock statistics on
    gpu_steps = 5            # on a GPU: extra steps under CUPTI for the GPU busy fraction
    cell_timeout_s = 900     # a cell silent this long (warm-up, a block, its record) is killed, marked failed
    data_parallel = 0        # N >= 1: each cell runs as N ranks with DistributedDataParallel (Note [Data-parallel
                             # cells] in data_parallel.py); 0: the plain single-device cell

    [workload_options.vit_cifar]   # fields of the workload's Config; a family's table applies to
    data_dir = "/data/cifar-10-batches-py"   # its variants too (vit_cifar_noaug)

    [[policy_sets]]          # vibetensor cells run once per policy set; torch once per repeat
    name = "tuned"
    preset = "tuned"
    overrides = { "autograd.gate" = "global" }
"""
import itertools
import os
import sys
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from vibetensor.experiments.workloads import registry
from vibetensor.experiments.workloads.registry import WORKLOADS


SUITE_PREFIX = "suite."  # policy-dict keys "suite.<family>": that family's own backend (Note [Backend per family])


@dataclass
class PolicySet:
    name: str
    preset: str = "tuned"
    overrides: dict = field(default_factory=dict)
    suite_backends: dict = field(default_factory=dict)  # {family: backend}: the fastest backend per family

    def as_dict(self) -> dict:
        return {"preset": self.preset, **self.overrides,
                **{SUITE_PREFIX + f: b for f, b in self.suite_backends.items()}}


def split_suite_backends(policy: dict) -> tuple:
    """(the policies, {family: backend}) of a cell's policy dict."""
    plain = {k: v for k, v in policy.items() if not k.startswith(SUITE_PREFIX)}
    return plain, {k[len(SUITE_PREFIX):]: v for k, v in policy.items() if k.startswith(SUITE_PREFIX)}


@dataclass
class Cell:
    workload: str
    framework: str
    policy_set: PolicySet | None
    device: str
    repeat: int
    data_parallel: int = 0  # ranks of a data-parallel cell; 0: a plain cell

    @property
    def key(self) -> str:
        ps = self.policy_set.name if self.policy_set else "-"
        ranks = f"|ddp{self.data_parallel}" if self.data_parallel else ""
        return f"{self.workload}|{self.framework}|{ps}|{self.device}|{self.repeat}{ranks}"


@dataclass
class ExperimentConfig:
    path: str
    workloads: list
    frameworks: list
    device: str
    steps: int
    warmup: int
    repeats: int
    policy_sets: list
    probe_steps: int = 5
    gpu_steps: int = 5
    workload_options: dict = field(default_factory=dict)  # [workload_options.<name>] tables
    cell_timeout_s: float = 900.0
    rounds: int = 10
    threads: int = 0
    data_parallel: int = 0

    def options_for(self, workload: str) -> dict:
        return registry.resolve_options(workload, self.workload_options)

    def groups(self) -> list:
        """[(workload, repeat, [cells])]: the cells measured together, interleaved in rounds (the
        PyTorch cell and every policy set's vibetensor cell of one workload and repeat)."""
        out = []
        for rep, wl in itertools.product(range(self.repeats), self.workloads):
            cells = []
            for fw in self.frameworks:
                sets = self.policy_sets if fw == "vibetensor" else [None]
                cells.extend(Cell(wl, fw, ps, self.device, rep, self.data_parallel) for ps in sets)
            out.append((wl, rep, cells))
        return out

    def cells(self) -> list:
        return [c for _, _, cells in self.groups() for c in cells]


def _fail(path, msg):
    raise ValueError(f"{path}: {msg}")


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import vibetensor as vt
    return "cuda" if vt.cuda.is_available() else "cpu"


def load(path: str) -> ExperimentConfig:
    if not os.path.exists(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        _fail(path, f"malformed TOML: {e}")
    run = raw.get("run")
    if not isinstance(run, dict):
        _fail(path, "missing [run] section")
    known = {"workloads", "frameworks", "device", "steps", "warmup", "repeats", "probe_steps", "gpu_steps",
             "cell_timeout_s", "rounds", "threads", "data_parallel"}
    for k in run:
        if k not in known:
            _fail(path, f"unknown key {k!r} in [run]: expected one of {sorted(known)}")
    workloads = run.get("workloads", [])
    for w in workloads:
        if w not in WORKLOADS:
            _fail(path, f"unknown workload {w!r}: expected one of {sorted(WORKLOADS)}")
    frameworks = run.get("frameworks", ["torch", "vibetensor"])
    for fw in frameworks:
        if fw not in ("torch", "vibetensor"):
            _fail(path, f"unknown framework {fw!r}: expected 'torch' or 'vibetensor'")
    device = run.get("device", "auto")
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        _fail(path, f"unknown device {device!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    tables = raw.get("workload_options", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        _fail(path, "[workload_options] must hold one table per workload, e.g. [workload_options.vit_cifar]")
    for name in tables:
        if name not in WORKLOADS:
            _fail(path, f"[workload_options.{name}]: unknown workload {name!r}: expected one of {sorted(WORKLOADS)}")
    for w in workloads:
        try:  # validate option names and types now, not mid-matrix
            registry.make_config(w, registry.resolve_options(w, tables))
        except (ValueError, TypeError) as e:
            _fail(path, f"[workload_options]: {e}")
    known_top = {"run", "policy_sets", "workload_options"}
    for k in raw:
        if k not in known_top:
            _fail(path, f"unknown section {k!r}: expected one of {sorted(known_top)}")
    sets = []
    import vibetensor as vt
    for i, ps in enumerate(raw.get("policy_sets", [{"name": "tuned", "preset": "tuned"}])):
        if "name" not in ps:
            _fail(path, f"policy_sets[{i}] has no name")
        p = PolicySet(ps["name"], ps.get("preset", "tuned"), dict(ps.get("overrides", {})),
                      dict(ps.get("suite_backends", {})))
        try:  # validate names and values now, not mid-matrix
            vt.policy.validate(split_suite_backends(p.as_dict())[0])
            _check_suite_backends(p.suite_backends)
        except ValueError as e:
            _fail(path, f"policy set {p.name!r}: {e}")
        sets.append(p)
    return ExperimentConfig(path, workloads, frameworks, resolve_device(device), int(run.get("steps", 50)),
                            int(run.get("warmup", 3)), int(run.get("repeats", 1)), sets,
                            int(run.get("probe_steps", 5)), int(run.get("gpu_steps", 5)), tables,
                            float(run.get("cell_timeout_s", 900)), _positive_int(path, run, "rounds", 10, 1),
                            _positive_int(path, run, "threads", 0, 0), _positive_int(path, run, "data_parallel", 0, 0))


def _check_suite_backends(backends: dict):
    """Family and backend names of a policy set's suite_backends (kernels.suite.check_family_backend)."""
    from vibetensor.kernels import suite

    for family, backend in backends.items():
        suite.check_family_backend(family, backend)


def _positive_int(path, run: dict, key: str, default: int, least: int) -> int:
    v = run.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < least:
        _fail(path, f"[run] {key} = {v!r}: expected an integer >= {least}")
    return v
