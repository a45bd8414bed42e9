"""autograd.backward and autograd.grad: argument handling in torch's style over the C++ engine."""
import threading
import warnings
import weakref

from vibetensor import _C

Tensor = _C.Tensor

# Callbacks run after every backward() has returned (DistributedDataParallel's gradient reduction, Note
# [Gradient buckets]), held as weak methods so that a registered object can be dropped, each with the thread
# whose backward it follows (None: every thread's; a thread rank's reducer follows its own, Note [Thread ranks]).
_post_backward = []
_post_backward_lock = threading.Lock()


def register_post_backward_callback(bound_method, thread=None):
    """bound_method(failed) runs after each backward() of this process (of `thread` only, a threading.Thread,
    when given), on the thread that called it; failed is True when backward raised (the exception then
    propagates)."""
    with _post_backward_lock:
        _post_backward.append((weakref.WeakMethod(bound_method), thread))


def unregister_post_backward_callback(bound_method):
    with _post_backward_lock:
        _post_backward[:] = [(r, t) for r, t in _post_backward if r() is not None and r() != bound_method]


def _run_post_backward(failed=False):
    if not _post_backward:
        return
    me = threading.current_thread()
    with _post_backward_lock:
        live = [(r(), t) for r, t in _post_backward]
        _post_backward[:] = [entry for entry, (fn, _) in zip(_post_backward, live) if fn is not None]
    for fn, thread in live:
        if fn is not None and thread in (None, me):
            fn(failed)


def _with_post_backward(run):
    """Runs a backward, then the post-backward callbacks (told whether it raised)."""
    try:
        run()
    except BaseException:
        _run_post_backward(failed=True)
        raise
    _run_post_backward()


def partial_backward_running() -> bool:
    """Whether the node running on this thread belongs to a grad() or backward(inputs=...) call (Note [Partial
    backward] in csrc/autograd/engine.h)."""
    return _C._running_partial_backward()


def _tensor_list(x, what):
    if isinstance(x, Tensor):
        return [x]
    try:
        items = list(x)
    except TypeError:
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {type(x).__name__}") from None
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}] must be a Tensor, got {type(t).__name__}")
    return items


def _grad_list(grads, n, what):
    if grads is None:
        return [None] * n
    items = [grads] if isinstance(grads, Tensor) else list(grads)
    if len(items) != n:
        raise RuntimeError(f"{what}: got {len(items)} gradients for {n} tensors; expected one gradient (or None) per "
                           "tensor")
    for i, g in enumerate(items):
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"{what}[{i}] must be a Tensor or None, got {type(g).__name__}")
    return items


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulates d(tensors)/d(leaf) into the .grad of every leaf that requires grad (or only of
    `inputs` when given). grad_tensors may be omitted for one-element outputs. create_graph=True records the
    gradients' own graph (Note [Double backward] in csrc/autograd/node.h), so they can be differentiated again."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _tensor_list(tensors, "tensors")
    grads = _grad_list(grad_tensors, len(outputs), "grad_tensors")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if create_graph and inputs is None:
        # .grad gets a history that reaches back to its own leaf through AccumulateGrad, as in torch
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak.", stacklevel=2)
    if inputs is None:
        if _C._policy_get("autograd.executor") == "python" and not create_graph:  # Note [Python backward executor]
            from vibetensor.autograd import python_executor

            # Note [Autocast] (csrc/dispatch/autocast.h): backward runs with autocast off, as the C++ engine's
            state = _C._autocast_state()
            _C._set_autocast_state(False, state[1], False, state[3])
            try:
                _with_post_backward(lambda: python_executor.run_backward(outputs, grads, retain))
            finally:
                _C._set_autocast_state(*state)
            return
        _with_post_backward(lambda: _C._backward(outputs, grads, retain, bool(create_graph)))
        return
    inputs = _tensor_list(inputs, "inputs")
    if not inputs:
        raise RuntimeError("backward(): 'inputs' argument to backward() cannot be empty.")
    result = _C._grad(outputs, inputs, grads, retain, True, bool(create_graph))
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            continue
        t.grad = g if t.grad is None else t.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of outputs with respect to inputs, as a tuple (nothing is accumulated into .grad).

    allow_unused=True returns None for an input the outputs do not depend on (materialize_grads=True:
    zeros instead).
    """
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported by vibetensor")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    outs = _tensor_list(outputs, "outputs")
    ins = _tensor_list(inputs, "inputs")
    grads = _grad_list(grad_outputs, len(outs), "grad_outputs")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    result = _C._grad(outs, ins, grads, retain, bool(allow_unused), bool(create_graph))
    if materialize_grads:
        from vibetensor import _factories
        result = tuple(_factories.zeros_like(i) if g is None else g for i, g in zip(ins, result))
    return tuple(result)
