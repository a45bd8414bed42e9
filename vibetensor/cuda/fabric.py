"""Fabric: elementwise ops whose operands live on different devices of one process (Note [Fabric]).

    vt.policy.set("fabric.mode", "best_effort")
    c = vt.cuda.fabric.add(a_on_cuda0, b_on_cuda1)     # on cuda:0, reading b over P2P where it can
    vt.cuda.fabric.stats()                             # attempts, hits, fallbacks and their reasons, remote bytes
"""
import collections
import ctypes
import threading

from vibetensor import _C
from vibetensor import _functional as F

# Note [Fabric]
# VibeTensor's Fabric runs an op on tensors of several GPUs of one process over P2P / UVA, with modes and
# statistics. Here: add, sub, mul and div (broadcasting as the ops do) of two tensors, run on the first operand's
# device (the output's); the other is the remote operand. fabric.mode decides (decide(), a pure function of the
# devices, the mode and what the topology says, so that its every branch is tested without two GPUs):
# - off (torch's behaviour): operands on two devices are an error naming both.
# - best_effort: where the output's device can read the remote one's memory (both have unified addressing and
#   cuDeviceCanAccessPeer says yes: Note [Device topology]) the op's kernel runs on the output's device on a
#   view of the remote memory (a hit): peer access enabled once per pair (driver.enable_peer_access), the view
#   made by re-labelling the tensor's own DLPack capsule with the reader's device, the reader's stream ordered
#   after the owner's and the owner's after the kernel (as a cross-device copy orders them, Note [CUDA copies]).
#   Otherwise the remote operand is first copied to the output's device (a fallback, with its reason). An
#   operand that needs a gradient always takes the copy, which autograd differentiates; the view would not.
# - dry_run: decides and records what best_effort would do, then runs the copy.
# Statistics: attempts (ops whose operands were on two devices, mode not off), hits, fallbacks by reason, the
# dry runs that would have hit, and remote bytes (the remote operand's size, read over P2P or copied). They are
# plain counters updated only on the cross-device path (an op on one device never enters here), so they cost
# nothing when nobody reads them; stats() reads them, reset_stats() clears them.

Decision = collections.namedtuple("Decision", "out remote path would reason")
_NEEDS_GRAD = "the remote operand needs a gradient (autograd differentiates the copy, not a P2P view)"


def decide(mode, out, remote, peer_readable):
    """What fabric.mode `mode` does with an op on `out`'s device reading `remote` (devices with .type and .index):
    a Decision whose path is "local", "error", "p2p" or "copy", `would` what best_effort would do, and why a copy.
    peer_readable(reader, owner) -> (bool, reason) says whether CUDA device `reader` can read `owner`'s memory."""
    if out.type == remote.type and (out.index or 0) == (remote.index or 0):
        return Decision(out, remote, "local", "local", None)
    if mode == "off":
        return Decision(out, remote, "error", "error", None)
    if mode not in ("best_effort", "dry_run"):
        raise ValueError(f"fabric: mode {mode!r} is not one of 'off', 'best_effort', 'dry_run'")
    if out.type != "cuda" or remote.type != "cuda":
        would, why = "copy", f"{remote} -> {out}: peer access joins CUDA devices only"
    else:
        ok, why = peer_readable(out.index or 0, remote.index or 0)
        would = "p2p" if ok else "copy"
    if mode == "dry_run":
        return Decision(out, remote, "copy", would,
                        "fabric.mode=dry_run" + (f" ({why})" if would == "copy" else " (best_effort would read over P2P)"))
    return Decision(out, remote, would, would, why)


_lock = threading.Lock()
_counts = collections.Counter()
_reasons = collections.Counter()


def _record(decision, remote_bytes):
    with _lock:
        _counts["attempts"] += 1
        _counts["remote_bytes"] += remote_bytes
        if decision.path == "p2p":
            _counts["hits"] += 1
        else:
            _counts["fallbacks"] += 1
            _reasons[decision.reason] += 1
        if decision.reason and decision.reason.startswith("fabric.mode=dry_run") and decision.would == "p2p":
            _counts["dry_run_would_hit"] += 1


def stats():
    """{'attempts', 'hits', 'fallbacks', 'dry_run_would_hit', 'remote_bytes', 'fallback_reasons': {reason: n}}."""
    with _lock:
        out = {k: _counts[k] for k in ("attempts", "hits", "fallbacks", "dry_run_would_hit", "remote_bytes")}
        out["fallback_reasons"] = dict(_reasons)
    return out


def reset_stats():
    with _lock:
        _counts.clear()
        _reasons.clear()


_readable = {}  # (reader, owner) -> (bool, reason): the topology does not change while the process runs
_readable_lock = threading.Lock()


def peer_readable(reader, owner):
    """Whether kernels on cuda:reader can read cuda:owner's memory (UVA on both, cuDeviceCanAccessPeer), and why
    not; from the driver, once per pair."""
    from vibetensor.cuda import driver
    with _readable_lock:
        if (reader, owner) not in _readable:
            if driver.library() is None:
                answer = (False, driver.unavailable_reason())
            elif not (driver.unified_addressing(reader) and driver.unified_addressing(owner)):
                answer = (False, f"cuda:{reader} or cuda:{owner} has no unified addressing")
            elif not driver.can_access_peer(reader, owner):
                answer = (False, f"no P2P access from cuda:{reader} to cuda:{owner} (cuDeviceCanAccessPeer = 0)")
            else:
                answer = (True, None)
            _readable[(reader, owner)] = answer
        return _readable[(reader, owner)]


class _DLPrefix(ctypes.Structure):  # the head of DLManagedTensor: DLTensor's data and device
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _peer_view(tensor, reader):
    """`tensor`'s memory as a tensor of cuda:reader (peer access enabled): its own DLPack capsule, whose deleter
    keeps the memory alive, re-labelled with the reader's device."""
    capsule = tensor.detach().__dlpack__(stream=-1)  # no stream sync: _run_p2p orders the streams
    _DLPrefix.from_address(_capsule_pointer(capsule, b"dltensor")).device_id = reader
    return _C._from_dlpack_capsule(capsule)


def _run_p2p(fn, a, b):
    from vibetensor import cuda
    from vibetensor.cuda import driver
    reader, owner = a.device.index or 0, b.device.index or 0
    driver.enable_peer_access(reader, owner)
    ready = cuda.Event()
    ready.record(cuda.current_stream(owner))
    ready.wait(cuda.current_stream(reader))
    out = fn(a, _peer_view(b, reader))
    read = cuda.Event()
    read.record(cuda.current_stream(reader))
    read.wait(cuda.current_stream(owner))  # b's memory is not reused before the kernel has read it
    return out


def execute(name, fn, a, b, decision):
    """Runs fn(a, b) as `decision` says (the real data path of each decision), recording its statistics."""
    if decision.path == "local":
        return fn(a, b)
    if decision.path == "error":
        raise RuntimeError(f"fabric.{name}: expected all tensors to be on the same device, but found {decision.out} "
                           f"and {decision.remote} (fabric.mode=off; best_effort or dry_run run it across devices)")
    if decision.path == "p2p" and b.requires_grad:
        decision = decision._replace(path="copy", reason=_NEEDS_GRAD)
    _record(decision, b.numel() * b.element_size())
    if decision.path == "p2p":
        return _run_p2p(fn, a, b)
    return fn(a, b.to(str(decision.out)))


def _binary(name, fn, a, b):
    if not (isinstance(a, _C.Tensor) and isinstance(b, _C.Tensor)):
        return fn(a, b)
    decision = decide(_C._policy_get("fabric.mode"), a.device, b.device, peer_readable)
    return execute(name, fn, a, b, decision)


def add(a, b, *, alpha=1):
    return _binary("add", lambda x, y: F.add(x, y, alpha=alpha), a, b)


def sub(a, b, *, alpha=1):
    return _binary("sub", lambda x, y: F.sub(x, y, alpha=alpha), a, b)


def mul(a, b):
    return _binary("mul", F.mul, a, b)


def div(a, b, *, rounding_mode=None):
    return _binary("div", lambda x, y: F.div(x, y, rounding_mode=rounding_mode), a, b)
