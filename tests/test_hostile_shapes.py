"""Huge, negative and overflowing sizes, strides and offsets: a clean Python exception or torch's
result, never a crash, an out-of-bounds read or a wrapped numel (Note [Shape overflow]).

The randomized test runs its cases in child processes (tests/_hostile_cases.py), many per process;
a child that dies or hangs is rerun from the first case it did not report, that case alone, so the
failure names the case."""
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import vibetensor as vt

SEED = int(os.environ.get("VT_HOSTILE_SEED", "20261205"))
N_CASES = int(os.environ.get("VT_HOSTILE_CASES", "6000"))
BATCH = 500
CHILD_TIMEOUT_S = 300
CLEAN = {"RuntimeError", "ValueError", "IndexError", "TypeError", "OverflowError", "MemoryError"}

SMALL = [0, 1, 2, 3, 4, 5]
BIG = [2**31, 2**32, 2**40, 2**61, 2**62, 2**63 - 1]
NEG = [-1, -2, -2**31, -2**63]


# --- case generation --------------------------------------------------------------------------

def _size(r):
    p = r.random()
    return r.choice(SMALL) if p < 0.6 else r.choice(BIG) if p < 0.94 else r.choice(NEG)


def _sizes(r, lo=1, hi=3):
    return [_size(r) for _ in range(r.randint(lo, hi))]


def _stride(r):
    p = r.random()
    return r.choice([0, 1, 1, 2, 3, 6]) if p < 0.6 else r.choice(BIG) if p < 0.9 else r.choice(NEG)


def _pos(r):
    """An index, start or length: near the dim's size, or anywhere in (and past) int64."""
    p = r.random()
    if p < 0.45:
        return [r.choice(["size", "size", "neg_size"]), r.choice([-1, -1, 0, 1])]
    return r.choice(SMALL + [-1, -3]) if p < 0.8 else r.choice(BIG + NEG + [2**63, -2**63 - 1])


def _slice(r):
    step = r.choice([None, None, 1, 2, 3, 2**31, 2**62, 2**63 - 1, 0, -1])
    return ["slice", r.choice([None, _pos(r)]), r.choice([None, _pos(r)]), step]


def _index_item(r):
    p = r.random()
    if p < 0.35:
        return _pos(r)
    if p < 0.75:
        return _slice(r)
    if p < 0.85:
        return None
    if p < 0.93:
        return "..."
    return ["list", _pos(r), _pos(r)]


def _dim(r):
    return r.choice([0, 0, 0, 1, -1, -1, -1, 2, -3])


def _op(r, name=None):
    name = name or r.choice(["expand", "expand", "as_strided", "as_strided", "view", "reshape", "narrow", "select",
                             "getitem", "getitem", "getitem", "unsqueeze", "flatten", "cat", "stack", "repeat",
                             "contiguous"])
    if name == "expand":
        return [name, _sizes(r, 0, 2) + [-1] * r.randint(1, 2)]
    if name == "as_strided":
        n = r.randint(1, 3)
        strides = [_stride(r) for _ in range(n if r.random() < 0.95 else n + 1)]
        return [name, _sizes(r, n, n), strides, r.choice([None, 0, 1, 2, 23, 24, 2**31, 2**62, 2**63 - 1, -1])]
    if name in ("view", "reshape"):
        shape = _sizes(r, 1, 3)
        if r.random() < 0.6:
            shape[r.randrange(len(shape))] = -1
        return [name, shape]
    if name == "narrow":
        return [name, _dim(r), _pos(r), _pos(r)]
    if name == "select":
        return [name, _dim(r), _pos(r)]
    if name == "getitem":
        return [name, [_index_item(r) for _ in range(r.choice([1, 1, 2, 2, 3]))]]
    if name == "unsqueeze":
        return [name, r.choice([0, 1, 2, -1, -4])]
    if name == "flatten":
        return [name, r.choice([0, 0, 1, -2]), r.choice([-1, -1, 1, 2])]
    if name in ("cat", "stack"):
        return [name, r.choice([1, 2, 3]), r.choice([0, 1, -1])]
    if name == "repeat":
        return [name, [r.choice(SMALL[1:] + BIG) for _ in range(r.randint(1, 3))]]
    if name == "contiguous":
        return [name]
    return [name, r.choice([None, None, 0, -1, 1, 5])]  # a reduction


def _reduction(r):
    return _op(r, r.choice(["sum", "sum", "mean", "amax"]))


def make_case(r):
    p = r.random()
    if p < 0.25:
        fn = r.choice(["empty", "zeros", "ones", "full", "rand", "randn"])
        dtype = r.choice(["float32", "float32", "int64"]) if fn in ("empty", "zeros", "ones", "full") else "float32"
        ops = [_op(r) for _ in range(r.randint(0, 2))] + ([_reduction(r)] if r.random() < 0.3 else [])
        return {"make": ["factory", fn, _sizes(r, 1, 3), dtype], "ops": ops, "values": fn not in ("empty", "rand", "randn")}
    if p < 0.35:
        ends = SMALL + BIG + NEG + [float("inf"), float("nan"), 1e30, -1e30, 2.5]
        args = sorted([r.choice(ends), r.choice(ends)]) if r.random() < 0.7 else [r.choice(ends), r.choice(ends)]
        args += [r.choice([1, 2, 3, 2**31, 2**62, 2**63 - 1, 0.5, 1e20, -1, 0])] if r.random() < 0.6 else []
        return {"make": ["arange", *args], "ops": [_reduction(r)] if r.random() < 0.3 else []}
    n, shape = r.choice([(24, [24]), (24, [4, 6]), (24, [2, 3, 4]), (3, [3]), (6, [1, 6]), (0, [0]), (0, [0, 3])])
    if p < 0.55:  # blow up with expand, shrink back with indexing, reduce: values must match
        ops = [["expand", [r.choice(BIG + SMALL[1:])] + [-1] * len(shape)],
               _op(r, r.choice(["getitem", "select", "narrow"])), _op(r, r.choice(["getitem", "narrow", "select"]))]
        return {"make": ["base", n, shape], "ops": ops + [_reduction(r)]}
    ops = [_op(r) for _ in range(r.randint(1, 3))] + ([_reduction(r)] if r.random() < 0.5 else [])
    return {"make": ["base", n, shape], "ops": ops}


# --- running cases in children ----------------------------------------------------------------

def _child_run(cases, timeout):
    """The results the child reported for [(id, case), ...] (in order), and why it stopped early
    (None when it reported every case)."""
    where = os.path.dirname(os.path.dirname(os.path.abspath(vt.__file__)))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hostile_cases.py")
    env = dict(os.environ, PYTHONPATH=where, OMP_NUM_THREADS="1")
    try:
        proc = subprocess.run([sys.executable, script], input=json.dumps(cases), capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=tempfile.gettempdir())
        out, err, why = proc.stdout, proc.stderr, f"exit code {proc.returncode}"
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        why = f"no result within {timeout} s"
    results = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return results, None if len(results) == len(cases) else f"{why}; stderr: {err[-1500:]}"


def _run_all(cases):
    """{id: result} for every case; a case that kills or hangs its child gets {"died": why}."""
    def batch(todo):
        done = {}
        while todo:
            results, died = _child_run(todo, CHILD_TIMEOUT_S)
            done.update((res["id"], res) for res in results)
            todo = todo[len(results):]
            if died:
                # Pinpoint: the first unreported case alone; then go on with the rest.
                alone, died_alone = _child_run(todo[:1], 120)
                done[todo[0][0]] = {"died": died_alone if not alone else  # else it needed the cases before it
                                    f"after earlier cases of its batch (alone it ends): {died}"}
                todo = todo[1:]
        return done

    chunks = [cases[i:i + BATCH] for i in range(0, len(cases), BATCH)]
    out = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(batch, chunks):
            out.update(done)
    return out


def _same_values(a, b):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-4, atol=1e-5,
                       equal_nan=True)


def verdict(result):
    """None when the case behaved; otherwise what went wrong."""
    if "died" in result:
        return f"the child process died: {result['died']}"
    t, v = result["torch"], result["vt"]
    if not v["ok"]:
        if v["type"] == "ModelMismatch":
            return f"vibetensor's shape differs from Python's semantics: {v['msg']}"
        if v["type"] not in CLEAN:
            return f"vibetensor raised {v['type']} (not a clean error): {v['msg']}"
        return None  # a clean error; torch may succeed (e.g. an offset whose byte count overflows)
    if not t["ok"]:
        if t["type"] == "ModelMismatch":  # torch's own int64 wrap; vibetensor passed the same check
            return None
        return f"torch raised {t['type']}: {t['msg']!r} but vibetensor returned shape {v['shape']}"
    if v["shape"] != t["shape"]:
        return f"shape {v['shape']} but torch gives {t['shape']}"
    if v["values"] is not None and t["values"] is not None and not _same_values(v["values"], t["values"]):
        return f"values {v['values']} but torch gives {t['values']}"
    return None


def test_random_hostile_shapes_end_cleanly_or_match_torch():
    r = random.Random(SEED)
    cases = [(i, make_case(r)) for i in range(N_CASES)]
    print(f"hostile shapes: seed {SEED}, {N_CASES} cases (VT_HOSTILE_SEED / VT_HOSTILE_CASES to change)")
    results = _run_all(cases)
    failures = [(i, case, verdict(results[i])) for i, case in cases if verdict(results[i])]
    kinds = {}
    for i, _ in cases:
        res = results[i]
        key = "died" if "died" in res else ("vt ok" if res["vt"]["ok"] else "vt raised") + \
            (", torch ok" if res["torch"]["ok"] else ", torch raised")
        kinds[key] = kinds.get(key, 0) + 1
    print(f"hostile shapes: {kinds}, {len(failures)} failures")
    report = "\n".join(f"case {i}: {json.dumps(case)}\n  -> {why}" for i, case, why in failures[:25])
    assert not failures, (f"seed {SEED}, {N_CASES} cases: {len(failures)} failed "
                          f"(first {min(25, len(failures))} below)\n{report}")


# --- the reported cases -----------------------------------------------------------------------

def test_empty_of_2_40_squared_raises_instead_of_numel_0():
    with pytest.raises(RuntimeError, match="overflow"):
        torch.empty(2**40, 2**40)
    with pytest.raises(RuntimeError, match=r"overflow.*\[1099511627776, 1099511627776\]"):
        vt.empty(2**40, 2**40)


def test_expand_that_overflows_numel_raises_like_torch():
    with pytest.raises(RuntimeError, match="numel: integer multiplication overflow"):
        torch.randn(3).expand(2**40, 2**40, 3)
    with pytest.raises(RuntimeError, match="numel: integer multiplication overflow"):
        vt.randn(3).expand(2**40, 2**40, 3)


def test_huge_expand_that_fits_is_a_view_with_the_right_values():
    base = vt.tensor([1.0, 2.0, 3.0])
    x = base.expand(2**61, 3)  # numel 3 * 2**61 fits in int64, as in torch
    assert x.shape == (2**61, 3) and x.stride() == (0, 1) and x.numel() == 3 * 2**61
    assert x[2**60].tolist() == [1.0, 2.0, 3.0]
    assert x[-1, 2].item() == 3.0
    np.testing.assert_allclose(x[2**60:2**60 + 1000].sum(dim=0).numpy(), [1000.0, 2000.0, 3000.0])


def test_storage_and_allocation_errors():
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        vt.empty(2**62)                           # 2**64 bytes
    with pytest.raises(RuntimeError, match="out of memory"):
        vt.empty(2**59, dtype=vt.float64)         # 2**62 bytes: fits in int64, not in any machine
    with pytest.raises(RuntimeError, match="negative dimension"):
        vt.zeros(2, -1)
    with pytest.raises(RuntimeError, match="does not fit in int64"):
        vt.empty(2**63)
    with pytest.raises(RuntimeError, match="finite count"):
        vt.arange(0, float("inf"))


def test_as_strided_beyond_its_storage_raises_like_torch():
    pattern = r"setStorage: sizes \[3\], strides \[1\], storage offset 1, and itemsize 4 requiring a storage size " \
              r"of 16 are out of bounds for storage of size 12"
    with pytest.raises(RuntimeError, match=pattern):
        torch.zeros(3).as_strided((3,), (1,), 1)
    with pytest.raises(RuntimeError, match=pattern):
        vt.zeros(3).as_strided((3,), (1,), 1)
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        vt.zeros(3).as_strided((2, 2), (2**62, 1))
    assert vt.arange(6.0).as_strided((2, 2), (1, 2), 1).tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_dlpack_refuses_tensors_that_require_grad_like_torch():
    t = vt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't export tensors that require gradient, use tensor.detach\(\)"):
        torch.from_dlpack(t)
    with pytest.raises(BufferError, match="require gradient"):  # torch's own tensors raise BufferError
        torch.from_dlpack(torch.ones(3, requires_grad=True))
    assert torch.from_dlpack(t.detach()).tolist() == [1.0, 1.0, 1.0]
