"""Shared bits of the CUDA benchmarks (and of those that run on either device): the no-GPU exit, provenance,
--json output, and forcing one of torch's SDPA backends."""
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def require_gpu_or_exit(name):
    sys.path.insert(0, ROOT)  # the in-tree build
    import vibetensor as vt

    if not vt.cuda.is_available():
        print(f"{name}: no CUDA GPU available ({vt._C._cuda.unavailable_reason() if vt.cuda.is_built() else 'built without CUDA'}); nothing to measure")
        sys.exit(0)
    return vt


def device_or_exit(name, device):
    """What the harness `name` runs on, as one phrase: "cpu", or "cuda (<GPU name>)" once both PyTorch and vibetensor
    see a GPU; asked for cuda without one, it says so and exits 0 (torch is asked first: on a machine without a GPU
    the checkout's vibetensor may have no built module to ask)."""
    if device == "cpu":
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        print(f"{name}: torch {torch.__version__} sees no CUDA GPU; nothing to measure on cuda")
        sys.exit(0)
    require_gpu_or_exit(name)
    return f"cuda ({torch.cuda.get_device_name(0)})"


def provenance(device="cuda"):
    """Where and from what a result came; `device` is the device the figures were measured on."""
    import torch
    import vibetensor as vt

    # The GPU machine's copy of the tree may carry a stale .git: the session scripts pass the real commit.
    commit = os.environ.get("VT_GIT_COMMIT", "")
    try:
        commit = commit or subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                                          text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(), "git_commit": commit,
            "device": vt.cuda.get_device_name(0) if device != "cpu" and vt.cuda.is_available() else "cpu", "torch": torch.__version__, "python": platform.python_version(),
            "argv": sys.argv}


def write_json(path, results, device="cuda"):
    if path:
        with open(path, "w") as f:
            json.dump({"provenance": provenance(device), "results": results}, f, indent=2)
        print(f"wrote {path}")


# torch's SDPA backends a benchmark may force (--sdpa-backends), by the names of torch.nn.attention.SDPBackend
SDPA_BACKENDS = {"flash": "FLASH_ATTENTION", "cudnn": "CUDNN_ATTENTION", "efficient": "EFFICIENT_ATTENTION",
                 "math": "MATH"}


def sdpa_backend(name):
    """A context under which torch's scaled_dot_product_attention uses backend `name` of SDPA_BACKENDS only
    (None: torch's default choice)."""
    import contextlib

    if name is None:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel(getattr(SDPBackend, SDPA_BACKENDS[name]))
