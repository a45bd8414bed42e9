"""torch.compile and torch.set_float32_matmul_precision, as far as vibetensor has them.

Note [compile]
vibetensor has no graph compiler. compile(model) checks torch's arguments and returns the module or function
itself, which then runs eagerly: what torch.compile(backend="eager") runs. A script written for torch runs
unchanged, with the same results; its speed is vibetensor's eager speed. It warns once per process, so that a
measurement of a compiled script is not mistaken for a compiled one. The closest vibetensor equivalents are the
tuned preset and whole-step capture (step.capture=graph, vt.cuda.graphed_step).
"""
import warnings

__all__ = ["compile", "set_float32_matmul_precision", "get_float32_matmul_precision"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_warned = False


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile's signature; returns `model` itself (Note [compile]). Used as a decorator with or without
    arguments, as torch's."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode!r}; expected one of {[m for m in _MODES if m]}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if not (isinstance(backend, str) or callable(backend)):
        raise TypeError(f"compile: backend must be a name or a callable, got {type(backend).__name__}")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                  options=options, disable=disable)
    if not callable(model):
        raise RuntimeError(f"compile: expected a callable (a module or a function), got {type(model).__name__}")
    global _warned
    if not disable and not _warned:
        _warned = True
        warnings.warn("vibetensor.compile: vibetensor has no graph compiler; the model runs eagerly (Note [compile] "
                      "in vibetensor/_compile.py: the tuned preset and step.capture=graph are its equivalents)",
                      UserWarning, stacklevel=2)
    return model


# Note [float32 matmul precision]
# torch's three settings over vibetensor's TF32 switch (Note [TF32 matmul]): "highest" computes float32
# products in float32; "high" lets them use TF32 tensor cores; "medium" allows bfloat16 internally where a fast
# algorithm has it, "otherwise ... as if the precision is 'high'" (torch's documentation), which is the case
# for every vibetensor product. Setting backends.cuda.matmul.allow_tf32 moves the reading, as in torch.
_PRECISIONS = ("highest", "high", "medium")
_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    from vibetensor.backends import cuda as cuda_backend
    global _precision
    if precision not in _PRECISIONS:
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; expected one of "
                           f"{list(_PRECISIONS)}")
    cuda_backend.matmul.allow_tf32 = precision != "highest"
    _precision = precision


def get_float32_matmul_precision() -> str:
    from vibetensor.backends import cuda as cuda_backend
    if not cuda_backend.matmul.allow_tf32:
        return "highest"
    return "high" if _precision == "highest" else _precision
