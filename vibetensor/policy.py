"""Runtime policies: named switches with closed value sets, one row each in csrc/policy/catalogue.def.

    vt.policy.set("autograd.gate", "global")          # or set(**{"autograd.gate": "global"})
    with vt.policy.override({"autograd.gil": "held"}): ...
    vt.policy.apply_preset("vibe")
    vt.policy.load_config("run.toml")                 # a [policy] table
    VT_POLICY="preset=vibe,autograd.gate=per_graph"   # applied at `import vibetensor`

Errors name the bad policy or value and list the valid ones.
"""
import contextlib
import functools
import os
import sys

from vibetensor import _C

ENV_VAR = "VT_POLICY"


def _settings(args, kwargs, fn):
    """(spec, [(name, value), ...]) from set(name, value), set({name: value}), set("spec") or
    set(**{name: value}); C++ parses the spec and validates everything."""
    spec, items = "", []
    if len(args) == 2:
        items = [(args[0], args[1])]
    elif len(args) == 1 and isinstance(args[0], dict):
        items = list(args[0].items())
    elif len(args) == 1 and isinstance(args[0], str):
        spec = args[0]
    elif args:
        raise TypeError(f"policy.{fn}() takes (name, value), a dict, a spec string 'name=value,...' or keyword "
                        f"arguments; got {len(args)} positional arguments")
    items += list(kwargs.items())
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"policy.{fn}(): names and values must be strings, got {name!r}={value!r}")
    return spec, items


def set(*args, **kwargs):  # noqa: A001 (vt.policy.set, as the brief names it)
    """Sets policies: set("autograd.gate", "global"), set({...}), set("a=b,c=d") or set(**{"a": "b"}).
    A 'preset' item applies a preset (in order with the other items). Validated before anything changes."""
    _C._policy_apply(*_settings(args, kwargs, "set"))


def validate(*args, **kwargs):
    """Checks policy names, values and presets as set() would, changing nothing (ValueError naming
    the bad item and listing the valid ones)."""
    _C._policy_validate(*_settings(args, kwargs, "validate"))


def apply_spec(spec):
    """Applies a VT_POLICY-style spec: "preset=vibe,autograd.gate=per_graph" (items in order)."""
    if not isinstance(spec, str):
        raise TypeError(f"policy.apply_spec() takes a string such as 'preset=vibe,autograd.gate=per_graph', got "
                        f"{type(spec).__name__}")
    _C._policy_apply(spec)


def get(name):
    """The current value of one policy."""
    if not isinstance(name, str):
        raise TypeError(f"policy.get() takes a policy name (a string), got {name!r}")
    return _C._policy_get(name)


def current():
    """{policy name: current value} for every policy, in catalogue order."""
    return _C._policy_current()


def presets():
    """{preset name: {policy name: value}}."""
    return {k: dict(v) for k, v in _C._policy_presets().items()}


def apply_preset(name):
    """Applies a preset by name ('tuned' restores every non-probe policy's default)."""
    _C._policy_apply("", [("preset", name)])


@contextlib.contextmanager
def override(*args, **kwargs):
    """Sets policies for the duration of a with-block and restores the previous values after it
    (also when the block raises). Takes what set() takes."""
    settings = _settings(args, kwargs, "override")
    before = current()
    try:
        _C._policy_apply(*settings)
        yield
    finally:
        now = current()
        changed = [(k, v) for k, v in before.items() if now[k] != v]
        if changed:
            _C._policy_apply("", changed)


def describe():
    """A pandas DataFrame of the catalogue: name, value, default, values, description, mirrors,
    fixed_after_first_use, where (the file of the mechanism and its Note) and in_use. Its str lists
    one policy per paragraph."""
    import pandas as pd

    rows = _C._policy_describe()
    for row in rows:
        row["values"] = ", ".join(row["values"])
        row["where"] = f"{row.pop('file')}, Note [{row.pop('note')}]"
    df = pd.DataFrame(rows, columns=["name", "value", "default", "values", "description", "mirrors",
                                     "fixed_after_first_use", "where", "in_use"])
    return _policy_table_class()(df)


@functools.cache
def _policy_table_class():
    import pandas as pd

    class PolicyTable(pd.DataFrame):
        """describe()'s DataFrame; str() is a text listing that fits a terminal."""

        @property
        def _constructor(self):
            return PolicyTable

        def __str__(self):
            if not {"name", "value", "default", "values", "description"} <= {*self.columns}:
                return pd.DataFrame.__str__(self)
            width = max((len(n) for n in self["name"]), default=0)
            lines = []
            for row in self.itertuples(index=False):
                changed = "" if row.value == row.default else f"  (default {row.default})"
                fixed = ", fixed after first use" if getattr(row, "fixed_after_first_use", False) else ""
                lines.append(f"{row.name:<{width}} = {row.value}{changed}    [{row.values}{fixed}]")
                lines.append(f"{'':<{width}}   {row.description}")
                mirrors = getattr(row, "mirrors", "")
                if mirrors:
                    lines.append(f"{'':<{width}}   mirrors: {mirrors}")
                where = getattr(row, "where", "")
                if where:
                    lines.append(f"{'':<{width}}   where: {where}")
            return "\n".join(lines)

    PolicyTable.__module__ = __name__
    PolicyTable.__qualname__ = "PolicyTable"
    return PolicyTable


def _load_toml(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"malformed TOML in policy config {os.fspath(path)!r}: {e}") from None


def load_config(path):
    """Applies the [policy] table of a TOML file: `preset = "vibe"` (applied first) and
    `"autograd.gate" = "per_graph"` items. Unknown names/values and malformed files raise
    ValueError naming the file; nothing changes then."""
    doc = _load_toml(path)
    table = doc.get("policy")
    if table is None:
        raise ValueError(f"policy config {os.fspath(path)!r} has no [policy] table (found: {sorted(doc) or 'nothing'})")
    if not isinstance(table, dict):
        raise ValueError(f"policy config {os.fspath(path)!r}: 'policy' must be a table, got {type(table).__name__}")
    items = _flatten(table)
    items.sort(key=lambda kv: kv[0] != "preset")  # the preset first, then individual settings
    for name, value in items:
        if not isinstance(value, str):
            raise ValueError(f"policy config {os.fspath(path)!r}: value of {name!r} must be a string, got {value!r}")
    try:
        _C._policy_apply("", items)
    except ValueError as e:
        raise ValueError(f"policy config {os.fspath(path)!r}: {e}") from None
    return dict(items)


def _flatten(table, prefix=""):
    """TOML dotted keys without quotes (autograd.gate = "x") arrive as nested tables."""
    items = []
    for k, v in table.items():
        if isinstance(v, dict):
            items += _flatten(v, prefix + k + ".")
        else:
            items.append((prefix + k, v))
    return items


def _apply_environment():
    """Applies VT_POLICY at import; an invalid spec fails the import with the reason."""
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    try:
        _C._policy_apply(spec)
    except ValueError as e:
        raise ValueError(f"invalid {ENV_VAR}={spec!r}: {e}") from None
