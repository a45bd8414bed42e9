"""Child process of tests/test_hostile_shapes.py: runs hostile-shape cases on torch and vibetensor.

Reads a JSON list of [case id, case] from stdin and prints one JSON line per case, flushed, so a
crash leaves every earlier result behind: {"id": ..., "torch": outcome, "vt": outcome}. An
outcome is {"ok": true, "shape": [...], "values": [...] | null} or {"ok": false, "type": ...,
"msg": ...}. A case is {"make": [...], "ops": [[name, *args], ...]} (see the generator in the
test); arguments written ["size", k] resolve to the current size of the op's dim plus k, so both
libraries get the same numbers. Address space is capped after import, so an allocation that
fits in int64 but not in memory fails fast in both libraries instead of paging.
"""
import json
import resource
import sys

import torch

import vibetensor as vt

VALUES_LIMIT = 256      # compare values of results up to this many elements
REDUCE_LIMIT = 1 << 16  # reduce only tensors this small (an expanded 2**61 x 3 would take years)
HEADROOM = 1 << 30      # address space allowed beyond what the imports mapped


class ModelMismatch(Exception):
    """A result whose shape differs from Python's semantics (range lengths): torch computes slice
    and arange lengths in int64 and wraps for huge steps and bounds."""


def _dtype(lib, name):
    return getattr(lib, name)


def _resolve(spec, size):
    return size + spec[1] if isinstance(spec, list) and spec[0] == "size" else \
        -size + spec[1] if isinstance(spec, list) and spec[0] == "neg_size" else spec


def _dim_size(x, d):
    return x.shape[d] if -x.ndim <= d < x.ndim else 0


def _index_item(it, size):
    if isinstance(it, list) and it[0] == "slice":
        return slice(*[None if v is None else _resolve(v, size) for v in it[1:]])
    if it == "...":
        return Ellipsis
    if isinstance(it, list) and it[0] == "list":
        return [_resolve(v, size) for v in it[1:]]
    return None if it is None else _resolve(it, size)


def _index(x, items):
    """The index tuple, with ["size", k] resolved against the dim each item applies to (items
    before an Ellipsis count from the front, after it from the back)."""
    out, d = [], 0
    after = items.index("...") if "..." in items else len(items)
    for pos, it in enumerate(items):
        if pos > after:
            consumed = sum(1 for j in items[pos:] if j is not None)
            d = x.ndim - consumed
        out.append(_index_item(it, _dim_size(x, d)))
        if it is not None and it != "...":
            d += 1
    return tuple(out)


def _unsqueeze_wraps(shape, strides, d):
    """Whether torch's stride of a new dim inserted before dim d, size * stride, wraps."""
    return d < len(shape) and not -2**63 <= shape[d] * strides[d] < 2**63


def _index_model(x, index):
    """Python's shape of x[index] for ints, slices, None and Ellipsis (None if other items), and
    whether torch's int64 slice arithmetic wraps on it: it computes a slice's length as
    (stop - start + step - 1) // step and its stride as stride * step, both unchecked."""
    advanced = any(isinstance(i, list) for i in index)
    shape, strides = list(x.shape), list(x.stride())
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    out, d, wraps = [], 0, False
    for i in index:
        if i is None:
            out.append(1)
            wraps |= _unsqueeze_wraps(shape, strides, d)
        elif i is Ellipsis:
            keep = len(shape) - n_real
            out += shape[d:d + keep]
            d += keep
        elif isinstance(i, slice):
            if d >= len(shape):
                return None, wraps
            start, stop, step = i.indices(shape[d])
            out.append(len(range(start, stop, step)))
            wraps |= max(stop - start, 0) + step - 1 >= 2**63 or not -2**63 <= strides[d] * step < 2**63
            d += 1
        else:
            d += 1
    return None if advanced else out + shape[d:], wraps


def _make(lib, make):
    kind = make[0]
    if kind == "factory":
        _, fn, sizes, dtype = make
        if fn == "full":
            return lib.full(sizes, 7, dtype=_dtype(lib, dtype))
        return getattr(lib, fn)(*sizes, dtype=_dtype(lib, dtype))
    if kind == "arange":
        ints = all(isinstance(v, int) for v in make[1:])
        span = abs(make[2] - make[1]) + abs(make[3] if len(make) > 3 else 1) if ints else 0
        if lib is torch and span >= 2**63:  # torch's int64 length arithmetic wraps: not a reference
            raise ModelMismatch(f"torch's arange length arithmetic wraps for arange{tuple(make[1:])}")
        x = lib.arange(*make[1:])
        if list(x.shape) != [len(range(*make[1:]))]:
            raise ModelMismatch(f"arange{tuple(make[1:])} has shape {list(x.shape)}")
        return x
    _, n, shape = make  # "base": arange(n) as float32 viewed as shape
    return lib.arange(n, dtype=lib.float32).reshape(shape)


def _apply(lib, x, op):
    name, args = op[0], op[1:]
    if name == "expand":
        return x.expand(*args[0])
    if name == "as_strided":
        return x.as_strided(args[0], args[1], args[2])
    if name in ("view", "reshape"):
        return getattr(x, name)(*args[0])
    if name in ("narrow", "select"):
        d = args[0]
        size = _dim_size(x, d)
        return getattr(x, name)(d, *[_resolve(a, size) for a in args[1:]])
    if name == "unsqueeze":
        d = args[0] + x.ndim + 1 if args[0] < 0 else args[0]
        if lib is torch and _unsqueeze_wraps(list(x.shape), list(x.stride()), d):
            raise ModelMismatch(f"torch's stride arithmetic wraps in unsqueeze({args[0]}) of {list(x.shape)}")
        return x.unsqueeze(args[0])
    if name == "flatten":
        return x.flatten(*args)
    if name == "getitem":
        index = _index(x, args[0])
        want, torch_wraps = _index_model(x, index)
        if lib is torch and torch_wraps:  # torch's result (or error) would be wrong: not a reference
            raise ModelMismatch(f"torch's slice arithmetic wraps in x[{index}] of shape {list(x.shape)}")
        out = x[index]
        if want is not None and list(out.shape) != want:
            raise ModelMismatch(f"x[{index}] of shape {list(x.shape)} has shape {list(out.shape)}, expected {want}")
        return out
    if name == "cat":
        return lib.cat([x] * args[0], dim=args[1])
    if name == "stack":
        return lib.stack([x] * args[0], dim=args[1])
    if name == "repeat":
        reps = args[0]
        if lib is torch and x.numel() == 0 and 0 not in reps:
            # torch unfolds its empty result through shapes whose numel may overflow
            raise ModelMismatch(f"torch's repeat of an empty tensor is not a reference for repeats {reps}")
        out = x.repeat(*reps)
        shape = [1] * (len(reps) - x.ndim) + list(x.shape)
        if len(reps) >= x.ndim and list(out.shape) != [r * s for r, s in zip(reps, shape)]:
            raise ModelMismatch(f"repeat{tuple(reps)} of {list(x.shape)} has shape {list(out.shape)}")
        return out
    if name == "contiguous":
        return x.contiguous() if x.numel() <= REDUCE_LIMIT else x
    if name in ("sum", "amax", "mean"):
        if x.numel() > REDUCE_LIMIT:
            return x
        return getattr(x, name)() if args[0] is None else getattr(x, name)(dim=args[0])
    raise ValueError(f"unknown op {name}")


def run(lib, case):
    try:
        x = _make(lib, case["make"])
        for op in case["ops"]:
            x = _apply(lib, x, op)
            if any(st < 0 for st in x.stride()):  # torch's unchecked size * stride wrapped
                raise ModelMismatch(f"{op[0]} gave strides {list(x.stride())}")
        values = None
        if case.get("values", True) and x.numel() <= VALUES_LIMIT:
            values = (x.float() if x.dtype == lib.bool else x).tolist()
        return {"ok": True, "shape": list(x.shape), "values": values}
    except Exception as e:  # every exception is recorded; the parent decides which are clean
        return {"ok": False, "type": type(e).__name__, "msg": str(e).split("\n")[0][:300]}


def _cap_address_space():
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + HEADROOM, resource.getrlimit(resource.RLIMIT_AS)[1]))


def main():
    cases = json.load(sys.stdin)
    torch.set_num_threads(1)
    vt.set_num_threads(1)
    # Warm both libraries up so their lazily mapped pools and threads exist before the cap.
    torch.ones(64).sum()
    vt.ones(64).sum()
    _cap_address_space()
    for cid, case in cases:
        res = {"id": cid, "torch": run(torch, case), "vt": run(vt, case)}
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
