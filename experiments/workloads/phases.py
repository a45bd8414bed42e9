"""Ranges around a training step's parts for profilers: NVTX ranges (probes.nvtx coarse or fine)
and trace events (probes.trace) in vibetensor cells, nothing in PyTorch cells. Note [Step ranges]."""
import contextlib

# Note [Step ranges]
# The runner marks each step ("step", runner._one_step: what is timed); a workload's step marks its
# parts where they are separate calls: "forward" (model and loss), "backward" (loss.backward(),
# which holds the engine's own "backward" range) and "optimizer" (gradient clipping, the optimizer
# and scheduler steps). zero_grad and the final loss.item() are in the step range only.
# mnist_mlp's manual step computes its gradients and update by hand in one block, so it has the
# step range only. Off, a range costs a policy read or two (about a microsecond per step).


def phase(fw, name: str):
    """A range named `name` on framework `fw` (a context manager)."""
    if getattr(fw, "__name__", None) != "vibetensor":
        return contextlib.nullcontext()
    from vibetensor.probes.ranges import annotate  # a layer below experiments; cached after the first step

    return annotate(name)
