"""Convolution and pooling against PyTorch at a ResNet-18 CIFAR network's layer shapes (issue 13's
"within 1.5x of PyTorch"), forward and forward + backward, on the CPU or a GPU, in interleaved rounds
(pooling: max_pool2d 3x3 stride 2 on the stem's output, Note [Max pooling], and the head's global average):

    python benchmarks/bench_conv.py [--device cpu|cuda] [--batch 32] [--rounds 5] [--iters 5] [--json PATH]
        [--no-tf32] [--backend triton|native]

On a GPU both frameworks' float32 convolutions use TF32 tensor cores by default (torch.backends.cudnn.allow_tf32
and vibetensor.backends.cudnn.allow_tf32 are True, Note [TF32 matmul]); --no-tf32 sets both False (IEEE float32).

vibetensor's conv2d is, on the CPU, its native kernel (im2col per sample block + OpenBLAS GEMMs, Note [CPU
convolution]); on a GPU, under kernels.backend=triton (--backend, default triton), the kernel suite's implicit
GEMMs (Note [Implicit GEMM convolution] in kernels/triton/conv.py). Each is measured beside the composed path
(NHWC windows + one GEMM, Note [Convolution by windows]); PyTorch's is cuDNN on a GPU and oneDNN / its own kernels on the CPU. Each sample is the median over rounds of the mean time of
`iters` calls, with a device synchronization after each batch of calls.
"""
import argparse
import contextlib
import statistics
import sys
import time

import torch

import vibetensor as vt

# (in channels, out channels, spatial size, stride): ResNet-18's 3x3 convolutions on 32x32 CIFAR images
LAYERS = [(64, 64, 32, 1), (64, 128, 32, 2), (128, 128, 16, 1), (256, 256, 8, 1), (512, 512, 4, 1)]
# (name, channels, spatial size, F.<op>, its arguments)
POOLS = [("max_pool2d 3x3 s2", 64, 32, "max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
         ("max_pool2d 2x2", 128, 16, "max_pool2d", dict(kernel_size=2)),
         ("adaptive_avg_pool2d 1", 512, 4, "adaptive_avg_pool2d", dict(output_size=1))]


@contextlib.contextmanager
def _composed_path():
    """vibetensor's composed conv2d (NHWC windows + GEMM, Note [Convolution by windows]): the suite's "conv"
    family set to native for the scope (forward and backward both ask it)."""
    from vibetensor.kernels import suite

    before = suite.family_backends().get("conv")
    suite.set_family_backend("conv", "native")
    try:
        yield
    finally:
        suite.set_family_backend("conv", before)


def _composed(x, w, stride, backward=False):
    """The composed conv2d of x by w, padding 1; with its backward of the sum when asked."""
    from vibetensor.nn._conv import _Conv2d

    with _composed_path():
        out = _Conv2d.apply(x, w, None, (stride, stride), (1, 1, 1, 1), (1, 1), 1)
        if backward:
            out.sum().backward()
    return out


def _sync(lib, device):
    if device == "cuda":
        lib.cuda.synchronize()


def _on(lib, t, dev):
    """A leaf copy of the torch tensor t for lib on dev, requiring grad."""
    return (lib.from_numpy(t.numpy()) if lib is vt else t.clone()).to(dev).requires_grad_()


def _measure(layer, libs, a, dev):
    """Interleaved rounds of every lib's forward and forward + backward; one row per pass, printed."""
    samples = {(n, p): [] for n in libs for p in ("fwd", "fwd+bwd")}
    for n, (lib, fwd, both) in libs.items():  # warm-up
        fwd(), both()
        _sync(lib, dev)
    for _ in range(a.rounds):
        for n, (lib, fwd, both) in libs.items():
            for p, fn in (("fwd", fwd), ("fwd+bwd", both)):
                t0 = time.perf_counter()
                for _ in range(a.iters):
                    fn()
                _sync(lib, dev)
                samples[(n, p)].append(1e3 * (time.perf_counter() - t0) / a.iters)
    rows = []
    for p in ("fwd", "fwd+bwd"):
        t, v = statistics.median(samples[("torch", p)]), statistics.median(samples[("vibetensor", p)])
        rows.append({"layer": layer, "pass": p, "torch_ms": t, "vt_ms": v, "vt_over_torch": v / t})
        extra = ""
        if ("composed", p) in samples:
            c = statistics.median(samples[("composed", p)])
            rows[-1].update(composed_ms=c, composed_over_torch=c / t)
            extra = f"  (composed {c:8.3f} ms {c / t:5.2f}x)"
        print(f"{layer:>34} {p:>8}: torch {t:8.3f} ms  vibetensor {v:8.3f} ms  {v / t:5.2f}x{extra}", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if vt.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--json", default="")
    ap.add_argument("--no-tf32", action="store_true", help="IEEE float32 convolutions in both frameworks")
    ap.add_argument("--backend", default="triton", choices=("triton", "native"),
                    help="kernels.backend of vibetensor's row (native: the composed path on a GPU too)")
    a = ap.parse_args()
    dev = a.device
    import vibetensor.kernels  # noqa: F401 (registers the suite's Triton compiler)
    vt.policy.set("kernels.backend", a.backend)
    torch.backends.cudnn.allow_tf32 = vt.backends.cudnn.allow_tf32 = not a.no_tf32
    name = vt.cuda.get_device_name(0) if dev == "cuda" else "cpu"
    math = "TF32" if dev == "cuda" and not a.no_tf32 else "IEEE float32"
    print(f"conv2d 3x3 at ResNet-18 CIFAR shapes, batch {a.batch}, on {name} ({math}); torch {torch.__version__}; "
          f"vibetensor kernels.backend={a.backend}")
    rows = []
    for cin, cout, hw, stride in LAYERS:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(a.batch, cin, hw, hw, generator=g)
        w = torch.randn(cout, cin, 3, 3, generator=g) * 0.05
        libs = {}
        for lib in (torch, vt):
            xl, wl = _on(lib, x, dev), _on(lib, w, dev)
            F = lib.nn.functional
            libs[lib.__name__] = (lib, lambda F=F, xl=xl, wl=wl: F.conv2d(xl, wl, None, stride, 1),
                                  lambda F=F, xl=xl, wl=wl: F.conv2d(xl, wl, None, stride, 1).sum().backward())
            if lib is vt:  # the composed path beside the native or suite kernels, in the same rounds
                libs["composed"] = (lib, lambda xl=xl, wl=wl: _composed(xl, wl, stride),
                                    lambda xl=xl, wl=wl: _composed(xl, wl, stride, backward=True))
        rows += _measure(f"{cin}->{cout} {hw}x{hw} s{stride}", libs, a, dev)
    for label, c, hw, op, kw in POOLS:
        x = torch.randn(a.batch, c, hw, hw, generator=torch.Generator().manual_seed(1))
        libs = {}
        for lib in (torch, vt):
            xl, fn = _on(lib, x, dev), getattr(lib.nn.functional, op)
            libs[lib.__name__] = (lib, lambda fn=fn, xl=xl: fn(xl, **kw), lambda fn=fn, xl=xl: fn(xl, **kw).sum().backward())
        rows += _measure(f"{label} {c}x{hw}x{hw}", libs, a, dev)
    from _cuda_bench_util import write_json
    write_json(a.json, {"device": name, "torch": torch.__version__, "batch": a.batch, "math": math,
                        "backend": a.backend, "report": vibetensor.kernels.suite.report(), "rows": rows},
               device=dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
