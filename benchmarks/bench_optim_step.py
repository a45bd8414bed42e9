"""One AdamW step over a model's parameters: PyTorch's fused and foreach AdamW against vibetensor's
fused AdamW with kernels.backend=native (CUDA multi-tensor kernels, one launch per chunk of tensors) and
=triton (the suite's optim family: one Triton launch per bucket through a cached chunk table, Note
[Chunk table] in csrc/ops/suite/chunk_table.h), and vibetensor's per-parameter step (optim.step=per_param,
the vibe preset's, VibeTensor's hand-written optimizer loop).

    python benchmarks/bench_optim_step.py [--rounds 5] [--batch 20] [--json PATH]

A second table times clip_grad_norm_ (2-norm, max_norm 0.9 times the previous call's, so every call scales)
over the same sets: torch's
(foreach) against vibetensor's vt::_fused_clip_grad_norm_ (optim.step=multi_tensor; native kernels and the
optim family's Triton kernels) and its per-tensor path (optim.step=per_param); bandwidth counts each gradient
read twice and written once (Note [Multi-tensor gradient clipping] in csrc/ops/optim/clip_grad_norm.h).

Parameter sets: minigpt's GPT (the workload's own shapes: dim 256, 6 layers, vocab 4096; weight decay on
matrices only, two groups as the workload makes them) and a large set (8 matrices of 4096 x 4096) in
float32 and bfloat16. Method: the median CUDA-event time of `batch` back-to-back steps, the variants
interleaved in rounds, the median over rounds; bandwidth counts each of param, grad, exp_avg, exp_avg_sq
read once and param, exp_avg, exp_avg_sq written once, as a fraction of the device-to-device copy
bandwidth measured in the same run. Compiles and warm-up are untimed.
"""
import argparse
import contextlib
import statistics
import sys

from _cuda_bench_util import require_gpu_or_exit, write_json

vt = require_gpu_or_exit("bench_optim_step")
import torch  # noqa: E402
import vibetensor.kernels  # noqa: E402,F401  (registers the Triton compiler)
from vibetensor.experiments.workloads.gpt import build_gpt  # noqa: E402
from vibetensor.kernels import suite  # noqa: E402

from bench_kernel_suite import copy_gbps, event_ms  # noqa: E402

DT = {"float32": (torch.float32, vt.float32, 4), "bfloat16": (torch.bfloat16, vt.bfloat16, 2)}


def gpt_params(lib, dtype):
    model = build_gpt(lib, 4096, 256, 8, 6, 128, False).to("cuda").to(DT[dtype][0 if lib is torch else 1])
    return list(model.parameters())


def large_params(lib, dtype):
    return [lib.randn(4096, 4096, device="cuda").to(DT[dtype][0 if lib is torch else 1]) for _ in range(8)]


def groups(params):
    """The workloads' grouping: weight decay 0.1 on tensors of two or more dims, none on the others."""
    decay = [p for p in params if p.dim() >= 2]
    rest = [p for p in params if p.dim() < 2]
    return [g for g in ({"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}) if g["params"]]


def variants():
    # (name, library, optimizer options, vibetensor policies)
    return [("torch fused", torch, {"fused": True}, None),
            ("torch foreach", torch, {"foreach": True}, None),
            ("vt native", vt, {"fused": True}, {"kernels.backend": "native"}),
            ("vt triton", vt, {"fused": True}, {"kernels.backend": "triton"}),
            ("vt per_param", vt, {}, {"optim.step": "per_param"})]


def _policies(overrides):
    return vt.policy.override(overrides) if overrides else contextlib.nullcontext()


def run_set(make, dtype, rounds, batch):
    prepared = []
    for name, lib, opts, policies in variants():
        params = make(lib, dtype)
        for p in params:
            p.requires_grad_(True)
            p.grad = lib.randn(*p.shape, device="cuda").to(p.dtype) * 1e-3
        opt = (torch.optim.AdamW if lib is torch else vt.optim.AdamW)(groups(params), lr=1e-3, betas=(0.9, 0.95),
                                                                       **opts)
        prepared.append((name, lib, policies, opt))
    for name, lib, policies, opt in prepared:  # compiles, state, warm-up: untimed
        with _policies(policies):
            for _ in range(3):
                opt.step()
        lib.cuda.synchronize()
    samples = {name: [] for name, *_ in prepared}
    for _ in range(rounds):
        for name, lib, policies, opt in prepared:
            with _policies(policies):
                samples[name].append(event_ms(lib, opt.step, batch))
    n = sum(p.numel() for g in prepared[0][3].param_groups for p in g["params"])
    return {name: statistics.median(xs) for name, xs in samples.items()}, n


def clip_variants():
    return [("torch foreach", torch, None),
            ("vt native", vt, {"optim.step": "multi_tensor", "kernels.backend": "native"}),
            ("vt triton", vt, {"optim.step": "multi_tensor", "kernels.backend": "triton"}),
            ("vt per_param", vt, {"optim.step": "per_param"})]


def _shrinking_clip(lib, params, norm0):
    """clip_grad_norm_ with max_norm 0.9 times the previous call's, so every call scales every gradient (at a
    fixed max_norm the norm settles where the coefficient rounds to 1, and vibetensor's op then skips the
    multiply that torch's performs)."""
    state = {"max_norm": norm0}

    def clip():
        state["max_norm"] *= 0.9
        return lib.nn.utils.clip_grad_norm_(params, state["max_norm"])

    return clip


def run_clip(make, dtype, rounds, batch):
    prepared = []
    for name, lib, policies in clip_variants():
        params = make(lib, dtype)
        for p in params:
            p.requires_grad_(True)
            p.grad = lib.randn(*p.shape, device="cuda").to(p.dtype)
        with _policies(policies):  # max_norm inf: the joint norm, nothing scaled (a host read, untimed)
            norm0 = float(lib.nn.utils.clip_grad_norm_(params, float("inf")))
        prepared.append((name, lib, policies, _shrinking_clip(lib, params, norm0)))
    for name, lib, policies, clip in prepared:  # compiles, chunk tables, warm-up: untimed
        with _policies(policies):
            for _ in range(3):
                clip()
        lib.cuda.synchronize()
    samples = {name: [] for name, *_ in prepared}
    for _ in range(rounds):
        for name, lib, policies, clip in prepared:
            with _policies(policies):
                samples[name].append(event_ms(lib, clip, batch))
    return {name: statistics.median(xs) for name, xs in samples.items()}


def clip_table(sets, copy, rounds, batch):
    print("\nclip_grad_norm_ (every call scales)")
    print("| parameters | dtype | " + " | ".join(f"{v[0]} ms (x)" for v in clip_variants()) + " | vt triton GB/s (copy %) |")
    print("| --- | --- |" + " --- |" * (len(clip_variants()) + 1))
    rows = []
    for label, make, dtype in sets:
        try:
            ms = run_clip(make, dtype, rounds, batch)
        except Exception as e:  # noqa: BLE001
            print(f"clip {label} {dtype}: FAILED {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"set": label, "dtype": dtype, "error": str(e)})
            continue
        n = sum(p.numel() for p in make(torch, dtype))
        base = ms["torch foreach"]
        gbps = 3 * n * DT[dtype][2] / ms["vt triton"] / 1e6
        print(f"| {label} | {dtype} | " + " | ".join(f"{ms[v[0]]:.4f} ({ms[v[0]] / base:.2f})" for v in clip_variants())
              + f" | {gbps:.0f} ({100 * gbps / copy:.0f}%) |", flush=True)
        rows.append({"set": label, "dtype": dtype, "elements": n, "ms": ms,
                     "vs_torch_foreach": {k: v / base for k, v in ms.items()}, "triton_gbps": gbps})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    copy = copy_gbps(10)
    print(f"device-to-device copy: {copy:.0f} GB/s ({vt.cuda.get_device_name(0)})")
    print("| parameters | dtype | elements | " + " | ".join(f"{v[0]} ms (x)" for v in variants())
          + " | vt triton GB/s (copy %) | triton ran |")
    print("| --- | --- | --- |" + " --- |" * (len(variants()) + 2))
    rows = []
    sets = (("minigpt GPT", gpt_params, "float32"), ("8 x 4096x4096", large_params, "float32"),
            ("8 x 4096x4096", large_params, "bfloat16"))
    for label, make, dtype in sets:
        suite.reset_report()
        try:
            ms, n = run_set(make, dtype, a.rounds, a.batch)
        except Exception as e:  # noqa: BLE001  (one broken set must not hide the others)
            print(f"{label} {dtype}: FAILED {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"set": label, "dtype": dtype, "error": str(e)})
            continue
        base = ms["torch fused"]
        gbps = 7 * n * DT[dtype][2] / ms["vt triton"] / 1e6
        ran = ", ".join(f"{x['backend']}{' fallback: ' + x['fallback'] if x['fallback'] else ''} x{x['count']}"
                        for x in suite.report() if x["family"] == "optim")
        print(f"| {label} | {dtype} | {n} | " + " | ".join(f"{ms[v[0]]:.4f} ({ms[v[0]] / base:.2f})" for v in variants())
              + f" | {gbps:.0f} ({100 * gbps / copy:.0f}%) | {ran} |", flush=True)
        rows.append({"set": label, "dtype": dtype, "elements": n, "ms": ms, "vs_torch_fused": {k: v / base for k, v in ms.items()},
                     "triton_gbps": gbps, "copy_fraction": gbps / copy, "suite": ran})
    clip_rows = clip_table(sets, copy, a.rounds, a.batch)
    write_json(a.json, {"copy_gbps": copy, "rows": rows, "clip_rows": clip_rows})


if __name__ == "__main__":
    main()
