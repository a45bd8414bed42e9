"""vibetensor.cuda.graphed_step: a whole training step (forward, backward, optimizer) captured once into
a CUDA graph and replayed with one launch per call. See Note [Whole-step capture]."""
from __future__ import annotations

from typing import Any, Callable

from vibetensor import _C

# Note [Whole-step capture]
# A small model's eager step is host-bound: every op crosses Python, the dispatcher and a launch,
# and the GPU waits in between (PyTorch's own kernels keep an H100 busy a fraction of a seq_reverse
# step). graphed_step(fn) runs fn eagerly for its first `warmup` calls (optimizer state, cuBLAS
# handles, compiled suite kernels come to exist outside any graph), then captures one call whole
# into a CUDA graph (vibetensor.cuda.graph: a side stream, the caching allocator's private pool)
# and replays it from then on: each call copies its tensor arguments into the static inputs the
# graph was captured on, launches the graph, and returns the static outputs (read them, e.g.
# loss.item(), after the call). What the capture needs from the step, and how it is checked:
# - no host synchronization inside fn (.item(), synchronize, a synchronous copy): the capture
#   raises a RuntimeError naming the call (Note [CUDA graph capture]);
# - random numbers on CUDA (dropout, rand, randn, randint) take their counters from the graph: every
#   replay draws fresh ones from the same generator as eager ops (Note [Random numbers under capture]
#   in csrc/cuda/capture_state.h), so a replayed step with dropout matches an eager step drawn from the
#   same generator state;
# - state that must change per step lives on the device: Adam/AdamW(capturable=True) keeps its
#   step count there (Note [Capturable Adam]); plain SGD has none. Host values read by fn (lr, a
#   Python counter) are baked in at capture;
# - policies whose mechanism runs work off the capturing thread or syncs: autograd.workers must be
#   caller, autograd.routing worker, scalars.cuda kernel_arg, alloc.cuda caching, checks.cuda_index
#   device_assert (the vibe preset fails here, as VibeTensor rejects backward under capture).
# The graph is captured again when the arguments' shapes, dtypes or devices, a non-tensor argument,
# or any policy differs from the captured call's. Parameters replaced by new tensors after the
# capture are not seen (the graph keeps the old addresses), as with torch.cuda.graph.

CAPTURE_NEEDS = {  # policy: (the value capture needs, why another value cannot be captured)
    "autograd.workers": ("caller", "backward then runs on other threads, outside this thread's capture"),
    "autograd.routing": ("worker", "owner routing hands device work to another thread"),
    "scalars.cuda": ("kernel_arg", "device_copy uploads each Python scalar with a synchronous copy"),
    "alloc.cuda": ("caching", "captured memory comes from the caching allocator's private pools"),
    "checks.cuda_index": ("device_assert", "sync reads an index flag back after each checked kernel"),
}


def check_capturable_policies(policy: dict) -> None:
    """Raises RuntimeError naming the first policy whose value a whole-step capture cannot take."""
    for name, (needed, why) in CAPTURE_NEEDS.items():
        if policy.get(name, needed) != needed:
            raise RuntimeError(f"graphed_step: cannot capture a step under {name}={policy[name]} ({why}); "
                               f"expected {name}={needed} (the tuned preset has it)")


def _signature(args) -> tuple:
    return tuple((tuple(a.shape), str(a.dtype), str(a.device)) if isinstance(a, _C.Tensor) else ("value", a)
                 for a in args)


class GraphedStep:
    """A callable that runs `fn` eagerly for the first `warmup` calls, then as a replayed CUDA graph."""

    def __init__(self, fn: Callable[..., Any], warmup: int = 1):
        if warmup < 0:
            raise ValueError(f"graphed_step: warmup must be >= 0, got {warmup}")
        self.fn, self.warmup = fn, warmup
        self.calls = self.captures = self.replays = 0
        self._graph = self._static_in = self._static_out = self._key = self._policy = None

    def __call__(self, *args):
        from vibetensor import cuda, policy

        cuda._require()
        if self.calls < self.warmup:
            self.calls += 1
            return self.fn(*args)
        key, current = _signature(args), policy.current()
        if self._graph is None or key != self._key or current != self._policy:
            self._capture(args, key, current)
        for static, a in zip(self._static_in, args):
            if isinstance(a, _C.Tensor) and a is not static:
                static.copy_(a)
        self._graph.replay()
        self.calls += 1
        self.replays += 1
        return self._static_out

    def _capture(self, args, key, current) -> None:
        from vibetensor import cuda

        check_capturable_policies(current)
        self.reset()
        static_in = [a.clone() if isinstance(a, _C.Tensor) else a for a in args]
        g = cuda.CUDAGraph()
        try:
            with cuda.graph(g):
                out = self.fn(*static_in)
        except RuntimeError as e:
            g.reset()
            raise RuntimeError(f"graphed_step: capturing {getattr(self.fn, '__name__', 'the step')} failed: {e}") from e
        self._graph, self._static_in, self._static_out, self._key, self._policy = g, static_in, out, key, current
        self.captures += 1

    def replay(self) -> None:
        """Launches the captured graph once more on its static inputs as they stand (no argument copy):
        the replayed step alone, e.g. to time it against the step's GPU kernel time."""
        if self._graph is None:
            raise RuntimeError(f"graphed_step: {getattr(self.fn, '__name__', 'the step')} has no captured graph to "
                               f"replay yet; expected a call after its {self.warmup} warm-up call(s)")
        self._graph.replay()
        self.replays += 1

    def reset(self) -> None:
        """Drops the captured graph, its static tensors and its memory pool (the next call captures again)."""
        if self._graph is not None:
            self._graph.reset()
        self._graph = self._static_in = self._static_out = self._key = self._policy = None

    def __repr__(self) -> str:
        return (f"<vibetensor.cuda.GraphedStep {getattr(self.fn, '__name__', 'step')}: calls={self.calls} "
                f"captures={self.captures} replays={self.replays}>")


def graphed_step(fn: Callable[..., Any], warmup: int = 1) -> GraphedStep:
    """fn (a whole training step over tensor arguments, returning tensors) as a callable that is
    captured into a CUDA graph after `warmup` eager calls and replayed from then on (Note
    [Whole-step capture]). Each call is one step: read its outputs after the call."""
    return GraphedStep(fn, warmup)
