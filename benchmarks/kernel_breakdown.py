"""Per-kernel breakdown of training steps, PyTorch beside vibetensor: which kernel families take the
GPU time of a step in each framework (the map issue 19's kernel suite starts from).

    python benchmarks/kernel_breakdown.py [--workloads seq_reverse minigpt vit_cifar_noaug]
        [--preset tuned] [--set POLICY=VALUE] [--option KEY=VALUE] [--steps 5] [--warmup 5] [--json out.json]

Each workload runs on both frameworks in one process, interleaved (torch, vibetensor, torch, ... per
round) so both see the same machine. Kernels are recorded with vibetensor's CUPTI collector
(probes/cupti.py), which sees every kernel of the process whichever framework launched it. A
kernel's family comes from its name (`family`); per family: GPU ms per step and launches per step.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

# First match wins: specific families before the generic ones (a fused softmax-backward kernel
# is "softmax", not "elementwise").
FAMILIES = (
    ("attention", r"flash|fmha|attention|sdpa|mem_eff"),
    ("gemm", r"gemm|xmma|cutlass|cublas|nvjet|sgemm|hgemm|matmul|splitK"),
    ("cross_entropy/nll", r"nll|cross_entropy|crossentropy"),
    ("softmax", r"softmax"),
    ("norm", r"layer_?norm|rms_?norm|batch_?norm|norm_forward|norm_backward|norm_column"),
    ("embedding", r"embedding|index_select|indexSelect|gather|scatter|index_add"),
    ("optimizer", r"adam|sgd|multi_tensor|foreach|fused_optim|lerp"),
    ("dropout/rng", r"dropout|philox|fused_dropout|random|rand"),
    ("reduction", r"reduce|sum|mean|partials|norm_kernel|argmax|max_kernel"),
    ("copy/layout", r"copy|cat_|concat|transpose|permute|contiguous|memcpy|strided|fill"),
    ("elementwise", r"elementwise|vectorized|unrolled|binary|unary|pointwise|gelu|relu|tanh|add|mul|where"),
)
_COMPILED = [(name, re.compile(pattern, re.I)) for name, pattern in FAMILIES]


def family(kernel_name: str) -> str:
    """The family of a kernel from its (mangled or demangled) name; "other" when none matches."""
    for name, pattern in _COMPILED:
        if pattern.search(kernel_name):
            return name
    return "other"


def demangle(names):
    """Demangled names through c++filt where it exists (CUPTI reports some names mangled)."""
    names = list(names)
    tool = shutil.which("c++filt")
    if not tool or not names:
        return {n: n for n in names}
    out = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    return dict(zip(names, out)) if len(out) == len(names) else {n: n for n in names}


def short(name: str, width: int = 90) -> str:
    """A kernel name without its parameter list (template arguments kept: they name the functor of
    a generic elementwise kernel), cut to `width`."""
    depth, kept = 0, []
    for ch in name:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            kept.append(ch)
    text = " ".join("".join(kept).replace("void ", "").split())
    return text if len(text) <= width else text[:width - 3] + "..."


def summarize(records, steps):
    """{family: (ms per step, launches per step)} and {kernel: (ms per step, launches per step)}."""
    fam_ns, fam_n = collections.Counter(), collections.Counter()
    ker_ns, ker_n = collections.Counter(), collections.Counter()
    names = demangle({r.name for r in records})
    for r in records:
        name = names.get(r.name, r.name)
        f = family(name)
        fam_ns[f] += r.end_ns - r.start_ns
        fam_n[f] += 1
        k = short(name)
        ker_ns[k] += r.end_ns - r.start_ns
        ker_n[k] += 1
    per = lambda ns, n: {k: (ns[k] / steps / 1e6, n[k] / steps) for k in ns}  # noqa: E731
    return per(fam_ns, fam_n), per(ker_ns, ker_n)


def record_steps(wl, steps, cupti_module):
    batches = [wl.next_batch() for _ in range(steps)]
    with cupti_module.KernelActivity(runtime=False) as activity:
        for b in batches:
            wl.step(b)
    return activity.kernels


def table(name, fw_results, top):
    lines = [f"\n## {name}: GPU ms per step by kernel family (launches per step)\n",
             "| family | " + " | ".join(fw_results) + " |", "| --- |" + " --- |" * len(fw_results)]
    families = sorted({f for fams, _ in fw_results.values() for f in fams},
                      key=lambda f: -max(fams.get(f, (0, 0))[0] for fams, _ in fw_results.values()))
    total = {fw: sum(v[0] for v in fams.values()) for fw, (fams, _) in fw_results.items()}
    for f in families:
        cells = [f"{fams[f][0]:.3f} ({fams[f][1]:.0f})" if f in fams else "-" for fams, _ in fw_results.values()]
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines.append("| **total** | " + " | ".join(f"**{total[fw]:.3f}** "
                                               f"({sum(v[1] for v in fams.values()):.0f})"
                                               for fw, (fams, _) in fw_results.items()) + " |")
    for fw, (_, kernels) in fw_results.items():
        lines.append(f"\n{fw}: top {top} kernels (ms per step, launches per step)")
        for k, (ms, n) in sorted(kernels.items(), key=lambda kv: -kv[1][0])[:top]:
            lines.append(f"    {ms:8.3f} ms {n:6.0f}x  {family(k):<18} {k}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=["seq_reverse", "minigpt", "vit_cifar_noaug"])
    p.add_argument("--preset", default="tuned")
    p.add_argument("--set", action="append", default=[], metavar="POLICY=VALUE",
                   help="a policy over the preset (repeatable), e.g. kernels.backend=triton")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a workload option for both frameworks (repeatable, TOML values), e.g. fused_rope=true")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2, help="recorded rounds per framework (interleaved)")
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)

    options = {}
    for item in a.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            p.error(f"--option expects KEY=VALUE, got {item!r}")
        options[key] = tomllib.loads(f"v = {value}")["v"]

    import torch
    import vibetensor as vt
    import vibetensor.probes.cupti as cupti
    from vibetensor.experiments.workloads import registry

    if not vt.cuda.is_available() or not torch.cuda.is_available():
        print("kernel_breakdown: needs a CUDA GPU for both frameworks; nothing to measure")
        return 0
    reason = cupti.unavailable_reason()
    if reason:
        print(f"kernel_breakdown: CUPTI cannot record ({reason})")
        return 1
    vt.policy.apply_spec(",".join([f"preset={a.preset}", *a.set]))  # the VT_POLICY syntax, as bench_step_capture's --set
    overrides = {k: vt.policy.get(k) for k in (kv.partition("=")[0] for kv in a.set)}
    label = a.preset + "".join(f" {k}={v}" for k, v in overrides.items())
    suite = None
    if vt.policy.get("kernels.backend") != "native":  # the suite's compiler registered, as the runner does
        from vibetensor.kernels import suite
        suite.install()
        suite.reset_report()
    out = {"provenance": {"git_commit": os.environ.get("VT_GIT_COMMIT", ""), "device": vt.cuda.get_device_name(0),
                          "torch": torch.__version__, "preset": a.preset, "policy": overrides, "options": options, "steps": a.steps * a.rounds,
                          "argv": sys.argv}, "workloads": {}}
    print(f"# Kernel breakdown on {out['provenance']['device']} (vibetensor {label}, torch {torch.__version__})")
    for name in a.workloads:
        built = {"pytorch": registry.build(name, torch, "cuda", dict(options)),
                 f"vibetensor {a.preset}": registry.build(name, vt, "cuda", dict(options))}
        for wl in built.values():
            for _ in range(a.warmup):
                wl.step(wl.next_batch())
        records = {fw: [] for fw in built}
        for _ in range(a.rounds):
            for fw, wl in built.items():
                torch.cuda.synchronize()
                vt.cuda.synchronize()
                records[fw] += record_steps(wl, a.steps, cupti)
        results = {fw: summarize(recs, a.steps * a.rounds) for fw, recs in records.items()}
        print(table(name, results, a.top))
        out["workloads"][name] = {fw: {"families": fams, "kernels": kernels} for fw, (fams, kernels) in results.items()}
    if suite is not None:
        out["kernel_suite"] = suite.report()
        print(f"\nkernel suite report (launches and fallbacks by family): {out['kernel_suite']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"\nwrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
