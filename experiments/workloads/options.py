"""Workload options: the fields of a workload's Config dataclass, set from a config file's
[workload_options.<name>] table. Unknown names and wrongly typed values are clear errors."""
import dataclasses


def make_config(config_cls, options: dict, workload: str):
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    values = {}
    for key, value in (options or {}).items():
        if key not in fields:
            raise ValueError(f"unknown option {key!r} for workload {workload!r}: expected one of {sorted(fields)}")
        default = getattr(config_cls, key, None)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)  # TOML arrays for tuple fields such as betas
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"option {key!r} of workload {workload!r} must be true or false, got {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"option {key!r} of workload {workload!r} must be a number, got {value!r}")
        values[key] = value
    return config_cls(**values)
