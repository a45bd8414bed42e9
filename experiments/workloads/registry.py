"""Workload names -> (module, family, fixed options). A variant such as vit_cifar_noaug is its
family's workload with some options fixed; a config's [workload_options.<family>] table applies
to every member of the family, a [workload_options.<name>] table to that name only (last)."""
import importlib

_PKG = "vibetensor.experiments.workloads."
WORKLOADS = {
    "seq_reverse": ("seq_reverse", "seq_reverse", {}),
    "vit_cifar": ("vit_cifar", "vit_cifar", {}),
    "vit_cifar_noaug": ("vit_cifar", "vit_cifar", {"augment": False}),
    "minigpt": ("minigpt", "minigpt", {}),
    "mnist_mlp": ("mnist_mlp", "mnist_mlp", {}),
    "mnist_mlp_manual": ("mnist_mlp", "mnist_mlp", {"manual": True}),
    "seq_reverse_sweep": ("seq_reverse_sweep", "seq_reverse_sweep", {}),
}


def _entry(name: str):
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}: expected one of {sorted(WORKLOADS)}")
    return WORKLOADS[name]


def get_workload(name: str):
    return importlib.import_module(_PKG + _entry(name)[0]).Workload


def family(name: str) -> str:
    return _entry(name)[1]


def resolve_options(name: str, tables: dict | None) -> dict:
    """The options of workload `name` from a config's workload_options tables."""
    tables = tables or {}
    _, fam, fixed = _entry(name)
    return {**tables.get(fam, {}), **fixed, **(tables.get(name, {}) if name != fam else {})}


def make_config(name: str, options: dict | None):
    """The Config of workload `name`: its fixed options (a variant's), then `options`."""
    from vibetensor.experiments.workloads.options import make_config as _make
    module, _, fixed = _entry(name)
    return _make(importlib.import_module(_PKG + module).Config, {**fixed, **(options or {})}, name)


def build(name: str, fw, device: str = "cpu", options: dict | None = None):
    """An instance of workload `name` on framework `fw` with the given options."""
    return get_workload(name)(fw, device=device, cfg=make_config(name, options))


def close(wl) -> None:
    """Releases what a workload holds beyond its tensors (seq_reverse_sweep's threads); a no-op for
    workloads without a close()."""
    closer = getattr(wl, "close", None)
    if closer is not None:
        closer()
