"""The optim family (kernels/triton/optim.py) under Triton's interpreter, on the chunk tables C++ builds
(vt._C._suite_chunk_table, Note [Chunk table] in csrc/ops/suite/chunk_table.h) over vibetensor CPU
tensors: the interpreted kernels update vibetensor's own memory through the table's addresses, and the
result is compared with torch.optim's AdamW / Adam / SGD on the same values. A small CHUNK and BLOCK
make several rows per parameter, full chunks (the unmasked path) and ragged last ones."""
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
vt = pytest.importorskip("vibetensor")

from _families import interpreted_family  # noqa: E402

SHAPES = [(5, 7), (64,), (3, 50), (1,), (0, 4)]  # 64 = two full chunks of 32; (0, 4): no rows
SMALL = {"CHUNK": 32, "BLOCK": 16}
DTYPES = {"float32": dict(rtol=1e-5, atol=1e-6), "bfloat16": dict(rtol=1e-2, atol=1e-2),
          "float16": dict(rtol=2e-3, atol=2e-3)}


def _vt(t):
    return vt.tensor(t.float().numpy()).to(getattr(vt, str(t.dtype).split(".")[1]))


def _torch(x):
    return torch.from_numpy(x.float().numpy().copy())


def _lists(dtype, seed, n_lists):
    """n_lists lists of vibetensor tensors of SHAPES (random params and grads, zero state), and torch
    float32 copies of the params and grads."""
    g = torch.Generator().manual_seed(seed)
    td = getattr(torch, dtype)
    params = [torch.randn(s, generator=g).to(td) for s in SHAPES]
    grads = [torch.randn(s, generator=g).to(td) for s in SHAPES]
    lists = [[_vt(p) for p in params], [_vt(x) for x in grads]]
    lists += [[_vt(torch.zeros(s, dtype=td)) for s in SHAPES] for _ in range(n_lists - 2)]
    return lists, [p.float() for p in params], [x.float() for x in grads]


def _steps(opt, ref, lists, grads, dtype):
    """Three steps (one for the half-precision dtypes, whose state rounds): torch's optimizer steps on
    step * grads, the same gradients written where the table's gradient addresses point; yields each step
    for the kernel's launch (the table is rebuilt per step as C++ does, its addresses unchanged)."""
    for step in range(1, (3 if dtype == "float32" else 1) + 1):
        for r, x in zip(ref, grads):
            r.grad = x * step
        opt.step()
        if step > 1:
            for v, x in zip(lists[1], grads):
                v.copy_(_vt((x * step).to(getattr(torch, dtype))))
        yield step


def _table(lists, chunk=SMALL["CHUNK"]):
    t = vt._C._suite_chunk_table(lists, chunk)
    return torch.tensor(t["rows"], dtype=torch.int64), t["n_rows"], int(t["aligned"])


def test_chunk_table_rows():
    """One row per chunk of each parameter with elements: list i's address at the chunk's first element
    (offset by the dtype's size), 0 for an empty list, the element count last; a view starting 4 bytes
    into its storage makes the table unaligned."""
    a, b = vt.zeros(70), vt.zeros(3, dtype=vt.bfloat16)
    ga, gb = vt.zeros(70), vt.zeros(3, dtype=vt.bfloat16)
    t = vt._C._suite_chunk_table([[a, b, vt.zeros(0)], [ga, gb, vt.zeros(0)], []], 32)
    rows = [t["rows"][i:i + 6] for i in range(0, len(t["rows"]), 6)]
    assert t["n_rows"] == len(rows) == 4
    assert [r[5] for r in rows] == [32, 32, 6, 3]
    base_a, base_ga = a.data_ptr(), ga.data_ptr()
    assert [r[0] for r in rows[:3]] == [base_a, base_a + 128, base_a + 256]
    assert [r[1] for r in rows[:3]] == [base_ga, base_ga + 128, base_ga + 256]
    assert rows[3][:2] == [b.data_ptr(), gb.data_ptr()] and all(r[2:5] == [0, 0, 0] for r in rows)
    assert t["aligned"] == all(x % 16 == 0 for r in rows for x in r[:5] if x)
    shifted = vt.zeros(9)[1:]
    assert not vt._C._suite_chunk_table([[shifted], [vt.zeros(8)]], 32)["aligned"]


def test_chunk_table_rejects_bad_lists():
    with pytest.raises(ValueError, match="as long as the 2 params"):
        vt._C._suite_chunk_table([[vt.zeros(3), vt.zeros(4)], [vt.zeros(3)]], 32)
    with pytest.raises(ValueError, match="1 to 5 tensor lists"):
        vt._C._suite_chunk_table([[vt.zeros(3)]] * 6, 32)
    with pytest.raises(ValueError, match="positive chunk"):
        vt._C._suite_chunk_table([[vt.zeros(3)]], 0)


ADAM_CASES = {  # (torch optimizer class, options)
    "adamw": (torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
    "adam_l2": (torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1)),
    "adam_plain": (torch.optim.Adam, dict(lr=3e-3, betas=(0.8, 0.95), eps=1e-6)),
    "amsgrad_maximize": (torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.01, amsgrad=True, maximize=True)),
}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_multi_matches_torch(case, dtype):
    """Three steps (one for the half-precision dtypes, whose state rounds) of adam_multi over one table
    match torch.optim on float32 copies; the table is rebuilt per step as C++ does, its addresses unchanged."""
    cls, opts = ADAM_CASES[case]
    amsgrad, maximize = opts.get("amsgrad", False), opts.get("maximize", False)
    lr, wd = opts["lr"], opts.get("weight_decay", 0.0)
    b1, b2 = opts.get("betas", (0.9, 0.999))
    eps = opts.get("eps", 1e-8)
    lists, params, grads = _lists(dtype, seed=len(case), n_lists=5)
    if not amsgrad:
        lists[4] = []
    ref = [p.clone().requires_grad_() for p in params]
    opt = cls(ref, foreach=False, **opts)
    kernel = interpreted_family("optim").KERNELS["adam_multi"]
    for step in _steps(opt, ref, lists, grads, dtype):
        rows, n_rows, aligned = _table(lists)
        decay = 0 if wd == 0 else 1 if cls is torch.optim.AdamW else 2
        kernel[(n_rows,)](rows, torch.empty(1, dtype=getattr(torch, dtype)), 1 - lr * wd, wd, b1, 1 - b1, b2, 1 - b2,
                          lr / (1 - b1 ** step), math.sqrt(1 - b2 ** step), eps, decay, int(amsgrad), int(maximize),
                          aligned, SMALL["CHUNK"], SMALL["BLOCK"])
    for i, (p, r) in enumerate(zip(lists[0], ref)):
        torch.testing.assert_close(_torch(p), r.detach(), **DTYPES[dtype])
        state = opt.state[r]
        torch.testing.assert_close(_torch(lists[2][i]), state["exp_avg"], **DTYPES[dtype])
        torch.testing.assert_close(_torch(lists[3][i]), state["exp_avg_sq"], **DTYPES[dtype])
        if amsgrad:
            torch.testing.assert_close(_torch(lists[4][i]), state["max_exp_avg_sq"], **DTYPES[dtype])


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum_decay": dict(lr=0.1, momentum=0.9, weight_decay=0.01),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "dampening_maximize": dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_multi_matches_torch(case, dtype):
    """Three steps of sgd_multi (the first writes the momentum buffers, FIRST=1) match torch.optim.SGD."""
    opts = SGD_CASES[case]
    momentum, wd = opts.get("momentum", 0.0), opts.get("weight_decay", 0.0)
    lists, params, grads = _lists(dtype, seed=len(case), n_lists=3)
    if momentum == 0:
        lists[2] = []
    ref = [p.clone().requires_grad_() for p in params]
    opt = torch.optim.SGD(ref, foreach=False, **opts)
    kernel = interpreted_family("optim").KERNELS["sgd_multi"]
    for step in _steps(opt, ref, lists, grads, dtype):
        rows, n_rows, aligned = _table(lists)
        kernel[(n_rows,)](rows, torch.empty(1, dtype=getattr(torch, dtype)), opts["lr"], wd, momentum,
                          1 - opts.get("dampening", 0.0), int(momentum != 0), int(step == 1),
                          int(opts.get("nesterov", False)), int(opts.get("maximize", False)), int(wd != 0), aligned,
                          SMALL["CHUNK"], SMALL["BLOCK"])
    for i, (p, r) in enumerate(zip(lists[0], ref)):
        torch.testing.assert_close(_torch(p), r.detach(), **DTYPES[dtype])
        if momentum:
            torch.testing.assert_close(_torch(lists[2][i]), opt.state[r]["momentum_buffer"], **DTYPES[dtype])


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("max_norm", [0.5, 1e9])  # clips; leaves the gradients alone (no store)
def test_clip_grad_norm_kernels_match_torch(dtype, max_norm):
    """sumsq_multi, clip_coef and scale_multi over one list of gradients (full chunks, ragged ones, an empty
    gradient) give torch's clip_grad_norm_: the joint norm and the scaled gradients."""
    lists, _, grads = _lists(dtype, seed=21, n_lists=2)
    ref = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for r, g in zip(ref, grads):
        r.grad = g.to(getattr(torch, dtype)).float()
    total = torch.nn.utils.clip_grad_norm_(ref, max_norm)
    family = interpreted_family("optim")
    rows, n_rows, aligned = _table([lists[1]])
    like = torch.empty(1, dtype=getattr(torch, dtype))
    partial = torch.full((n_rows,), float("nan"))
    norm_coef = torch.full((2,), float("nan"))
    family.KERNELS["sumsq_multi"][(n_rows,)](rows, like, partial, aligned, SMALL["CHUNK"], SMALL["BLOCK"])
    family.KERNELS["clip_coef"][(1,)](partial, norm_coef, n_rows, max_norm, SMALL["BLOCK"])
    family.KERNELS["scale_multi"][(n_rows,)](rows, like, norm_coef, aligned, SMALL["CHUNK"], SMALL["BLOCK"])
    torch.testing.assert_close(norm_coef[0], total, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(norm_coef[1], torch.clamp(max_norm / (total + 1e-6), max=1.0), rtol=1e-5, atol=1e-6)
    for g, r in zip(lists[1], ref):
        torch.testing.assert_close(_torch(g), r.grad, **DTYPES[dtype])
