"""Runtime policies: named switches with closed value sets (see csrc/policy/catalogue.cpp).

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


def _items(args, kwargs, fn):
    """(name, value) pairs from set(name, value), set({name: value}), set("spec") or set(**{name: value})."""
    if len(args) == 2:
        items = [(args[0], args[1])]
    elif len(args) == 1 and isinstance(args[0], dict):
        items = list(args[0].items())
    elif len(args) == 1 and isinstance(args[0], str):
        items = _parse_spec(args[0])
    elif args:
        raise TypeError(f"policy.{fn}() takes (name, value), a dict, a spec string 'name=value,...' or keyword "
                        f"arguments; got {len(args)} positional arguments")
    else:
        items = []
    items += list(kwargs.items())
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"policy.{fn}(): names and values must be strings, got {name!r}={value!r}")
    return items


def _parse_spec(spec):
    items = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise ValueError(f"malformed policy spec item {part!r} in {spec!r}: expected 'name=value' items separated "
                             "by commas, e.g. 'preset=vibe,autograd.gate=per_graph'")
        items.append((name.strip(), value.strip()))
    return items


def _validate(items):
    """ValueError (changing nothing) for an unknown policy, preset or value."""
    known = current()
    presets_ = None
    for name, value in items:
        if name == "preset":
            presets_ = presets_ or presets()
            if value not in presets_:
                raise ValueError(f"unknown preset {value!r}: expected one of {', '.join(map(repr, sorted(presets_)))}")
            continue
        if name not in known:
            raise ValueError(f"unknown policy {name!r}: expected one of {', '.join(map(repr, known))}")
        values = _values(name)
        if value not in values:
            raise ValueError(f"policy {name!r} has no value {value!r}: expected one of {', '.join(map(repr, values))}")


def _values(name):
    for row in _C._policy_describe():
        if row["name"] == name:
            return list(row["values"])
    raise ValueError(f"unknown policy {name!r}: expected one of {', '.join(map(repr, current()))}")


def _apply(items):
    _validate(items)
    for name, value in items:
        if name == "preset":
            _C._policy_apply_preset(value)
        else:
            _C._policy_set(name, value)


def set(*args, **kwargs):  # noqa: A001 (vt.policy.set, as the brief names it)
    """Sets policies: set("autograd.gate", "global"), set({...}), set("a=b,c=d") or set(**{"a": "b"}).
    A 'preset' item applies a preset (in order with the other items). Validated before anything changes."""
    _apply(_items(args, kwargs, "set"))


def validate(*args, **kwargs):
    """Checks policy names, values and presets as set() would, changing nothing (ValueError naming
    the bad item and listing the valid ones)."""
    _validate(_items(args, kwargs, "validate"))


def apply_spec(spec):
    """Applies a VT_POLICY-style spec: "preset=vibe,autograd.gate=per_graph" (items in order)."""
    if not isinstance(spec, str):
        raise TypeError(f"policy.apply_spec() takes a string such as 'preset=vibe,autograd.gate=per_graph', got "
                        f"{type(spec).__name__}")
    _apply(_parse_spec(spec))


def get(name):
    """The current value of one policy."""
    if name not in current():
        raise ValueError(f"unknown policy {name!r}: expected one of {', '.join(map(repr, current()))}")
    return _C._policy_get(name)


def current():
    """{policy name: current value} for every policy, in registration order."""
    return {row["name"]: row["value"] for row in _C._policy_describe()}


def presets():
    """{preset name: {policy name: value}}."""
    return {k: dict(v) for k, v in _C._policy_presets().items()}


def apply_preset(name):
    """Applies a preset by name ('tuned' restores every non-probe policy's default)."""
    _apply([("preset", name)])


@contextlib.contextmanager
def override(*args, **kwargs):
    """Sets policies for the duration of a with-block and restores the previous values after it
    (also when the block raises). Takes what set() takes."""
    items = _items(args, kwargs, "override")
    _validate(items)
    before = current()
    try:
        _apply(items)
        yield
    finally:
        changed = [(k, v) for k, v in before.items() if _C._policy_get(k) != v]
        for name, value in changed:
            _C._policy_set(name, value)


def describe():
    """A pandas DataFrame of every policy: name, value, default, values, description, mirrors,
    fixed_after_first_use (and in_use). Its str lists one policy per paragraph."""
    import pandas as pd

    df = pd.DataFrame(_C._policy_describe(), columns=["name", "value", "default", "values", "description",
                                                      "mirrors", "fixed_after_first_use", "in_use"])
    df["values"] = df["values"].map(lambda v: ", ".join(v))
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
        _apply(items)
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
        _apply(_parse_spec(spec))
    except ValueError as e:
        raise ValueError(f"invalid {ENV_VAR}={spec!r}: {e}") from None
