"""torch.utils.checkpoint's checkpoint and checkpoint_sequential: activation checkpointing. A region runs
forward without recording its graph; its backward runs it again, with grad on, from its saved inputs and the
generator state it began with, and backpropagates through that second run (Note [Activation checkpointing])."""
import contextlib
import numbers
import warnings

from vibetensor import _C
from vibetensor import _factories
from vibetensor import random as _random
from vibetensor.autograd import engine
from vibetensor.autograd.function import Function, once_differentiable
from vibetensor.autograd.grad_mode import enable_grad

Tensor = _C.Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]

# Note [Activation checkpointing]
# torch has two variants. The reentrant one (use_reentrant=True) is a custom Function: forward runs the region
# under no_grad and saves only its inputs; backward restores the generator state (and autocast state) that the
# forward began with, runs the region again with grad on from detached copies of the inputs, and calls backward
# through that graph (a backward inside the backward: "reentrant"), which accumulates into the .grad of every
# leaf the region used (its parameters) and leaves the inputs' gradients on the detached copies for the outer
# engine to carry on. torch's non-reentrant one (use_reentrant=False) records the region's graph as usual but
# keeps its saved tensors behind saved-tensor hooks that recompute them when the engine unpacks one; vibetensor's
# engine has no saved-tensor hooks, so here both variants are that Function, and use_reentrant=False adds what
# torch's API adds: keyword arguments, context_fn, determinism_check, and parameter gradients even when no input
# requires grad (an empty anchor input that requires grad makes the node record; its outputs then require grad
# even if the region uses nothing that does, and their gradient is nothing).
# Because the nested backward accumulates into every leaf it reaches, and the outer engine sees no edge from
# the node to the parameters, both variants refuse autograd.grad and backward(inputs=...) (as torch's reentrant
# one does), rather than touch .grad fields those calls must leave alone (Note [Partial backward] in
# autograd/engine.py). The generator is the one Philox stream of every device (vibetensor/random.py), so one
# saved state replays the CPU's and the GPU's draws (dropout) alike. Every tensor output's grad_fn is the node
# (CheckpointFunctionBackward): no node of the region's own ops outlives the forward.

_NOT_VALID = ("When use_reentrant={}, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` "
              "parameter to .backward(). To resolve this error, call .backward() without passing the `inputs` "
              "argument{}.")
_NOT_VALID_WHY = {True: "", False: " (vibetensor's use_reentrant=False recomputes through a nested backward as "
                                   "the reentrant variant does: Note [Activation checkpointing])"}
_DETERMINISM_CHECKS = ("default", "none")


def noop_context_fn():
    """The default context_fn: no context around the forward nor around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


# ---- nested arguments and outputs: tuples (named ones too), lists and dicts of tensors ---------------------
# The node's inputs and outputs are flat; a tensor inside an argument's tuple (an LSTM's (h, c)) or an output's
# (its (out, (h, c))) must be one of them, or its gradient would be lost without a word.

def _flatten(value, leaves):
    """The structure of `value` with its leaves appended to `leaves`."""
    if isinstance(value, (tuple, list)):
        return type(value), [_flatten(v, leaves) for v in value]
    if isinstance(value, dict):
        return type(value), {k: _flatten(v, leaves) for k, v in value.items()}
    leaves.append(value)
    return None


def _unflatten(structure, leaves):
    """The inverse of _flatten, consuming `leaves` (an iterator)."""
    if structure is None:
        return next(leaves)
    kind, items = structure
    if isinstance(items, dict):
        return kind((k, _unflatten(v, leaves)) for k, v in items.items())
    values = [_unflatten(v, leaves) for v in items]
    return kind(*values) if hasattr(kind, "_fields") else kind(values)


def _metadata(leaves):
    return [(tuple(t.shape), t.dtype, str(t.device)) if isinstance(t, Tensor) else None for t in leaves]


class _Region:
    """What a checkpointed call needs besides its tensors: the function, the structure of its (args, kwargs),
    the variant's options, and (after forward) the structure and metadata of its outputs."""

    def __init__(self, function, args, kwargs, preserve_rng_state, reentrant, determinism_check, recompute_context):
        self.flat_inputs = []
        self.in_structure = _flatten((args, kwargs), self.flat_inputs)
        self.function = function
        self.preserve_rng_state, self.reentrant = preserve_rng_state, reentrant
        self.determinism_check, self.recompute_context = determinism_check, recompute_context
        self.out_structure = self.out_metadata = None

    def call(self, flat):
        """The function's outputs as leaves, on the inputs `flat` (extra trailing items, the anchor, unused)."""
        args, kwargs = _unflatten(self.in_structure, iter(flat))
        leaves = []
        self.out_structure = _flatten(self.function(*args, **kwargs), leaves)
        return leaves


class CheckpointFunction(Function):
    """The recompute node (Note [Activation checkpointing]). apply(region, *flat): flat holds the leaves of the
    region's (args, kwargs), then possibly the anchor (not passed on)."""

    @staticmethod
    def forward(ctx, region, *flat):
        ctx.region = region
        if region.preserve_rng_state:
            ctx.rng_state = _random.get_rng_state()
        ctx.autocast_state = _C._autocast_state()
        ctx.flat = [None if isinstance(a, Tensor) else a for a in flat]
        ctx.tensor_positions = [i for i, a in enumerate(flat) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in flat if isinstance(a, Tensor)))
        leaves = region.call(flat)
        region.out_metadata = _metadata(leaves)
        return tuple(leaves)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        if engine.partial_backward_running():
            raise RuntimeError(_NOT_VALID.format(ctx.region.reentrant, _NOT_VALID_WHY[ctx.region.reentrant]))
        region = ctx.region
        flat = list(ctx.flat)
        for i, t in zip(ctx.tensor_positions, ctx.saved_tensors):
            flat[i] = t.detach().requires_grad_(t.requires_grad)
        state = _C._autocast_state()
        with _random.fork_rng(enabled=region.preserve_rng_state):
            if region.preserve_rng_state:
                _random.set_rng_state(ctx.rng_state)
            _C._set_autocast_state(*ctx.autocast_state)
            try:
                with enable_grad(), region.recompute_context:
                    leaves = region.call(flat)
            finally:
                _C._set_autocast_state(*state)
        if not region.reentrant and region.determinism_check == "default":
            _check_recomputed(region, leaves)
        pairs = [(o, g) for o, g in zip(leaves, grads)
                 if isinstance(o, Tensor) and o.requires_grad and isinstance(g, Tensor)]
        if not pairs and region.reentrant:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        if pairs:
            # The engine directly, not autograd.backward: the post-backward callbacks (DDP's) follow the outer one.
            _C._backward([o for o, _ in pairs], [g for _, g in pairs], False, False)
        return (None,) + tuple(a.grad if isinstance(a, Tensor) and a.requires_grad else None for a in flat)


def _check_recomputed(region, leaves):
    """determinism_check="default": the recomputation must give outputs of the forward's shapes, dtypes and
    devices (torch compares its saved tensors; the outputs are what vibetensor's recomputation keeps)."""
    got = _metadata(leaves)
    if got == region.out_metadata:
        return
    lines = [f"  output {i}: {want} during the forward, {have} when recomputed"
             for i, (want, have) in enumerate(zip(region.out_metadata, got)) if want != have]
    if len(got) != len(region.out_metadata):
        lines.append(f"  {len(region.out_metadata)} outputs during the forward, {len(got)} when recomputed")
    raise RuntimeError("torch.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                       "than during the forward pass (shape, dtype, device). The recomputation must run the same "
                       "operations; pass determinism_check='none' to skip this check.\n" + "\n".join(lines))


def _resolve_reentrant(use_reentrant, caller):
    if use_reentrant is None:
        warnings.warn(f"{caller}: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
                      "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, you can pass "
                      "use_reentrant=True. Refer to docs for more details on the differences between the two "
                      "variants.", stacklevel=3)
        return True
    return bool(use_reentrant)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, determinism_check="default",
               debug=False, context_fn=None, **kwargs):
    """function(*args, **kwargs) without keeping its intermediate activations: they are recomputed in backward
    (Note [Activation checkpointing]). Keyword arguments, context_fn, determinism_check and debug only with
    use_reentrant=False, as in torch."""
    reentrant = _resolve_reentrant(use_reentrant, "torch.utils.checkpoint")
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    context_fn = noop_context_fn if context_fn is None else context_fn
    if reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        forward_context, recompute_context = contextlib.nullcontext(), contextlib.nullcontext()
    else:
        if determinism_check not in _DETERMINISM_CHECKS:
            raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
                             f"{determinism_check}")
        if debug:
            raise NotImplementedError("checkpoint(debug=True): vibetensor records no operator traces to compare "
                                      "between the forward and the recomputation; pass debug=False (the "
                                      "determinism check still names the outputs that differ)")
        forward_context, recompute_context = context_fn()
    region = _Region(function, args, kwargs, bool(preserve_rng_state), reentrant, determinism_check,
                     recompute_context)
    flat, region.flat_inputs = region.flat_inputs, None  # the node keeps the tensors as saved ones, not here
    if _C.is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad for a in flat):
        if reentrant:
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
        else:
            flat.append(_factories.empty((0,), requires_grad=True))  # the anchor: the node records
    with forward_context:
        leaves = CheckpointFunction.apply(region, *flat)
    return _unflatten(region.out_structure, iter(leaves))


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs `functions` (an nn.Sequential or a list of modules / functions) one after another on `input`,
    checkpointing each of the first segments - 1 chunks; the last chunk runs normally (torch's split)."""
    from vibetensor.nn.modules.container import Sequential

    reentrant = _resolve_reentrant(use_reentrant, "torch.utils.checkpoint.checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    functions = list(functions.children()) if isinstance(functions, Sequential) else list(functions)
    if not isinstance(segments, numbers.Integral) or isinstance(segments, bool) or not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be an integer from 1 to the number of functions "
                         f"({len(functions)}), got {segments!r}")

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run(start, end), input, use_reentrant=reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
