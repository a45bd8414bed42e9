"""A module's forward and backward hooks (Note [Module hooks]): what Module.__call__ runs around forward when a
hook is registered."""
from vibetensor import _C
from vibetensor.autograd.function import Function

Tensor = _C.Tensor

# Note [Module hooks]
# torch's hooks on nn.Module, with its call order:
# 1. forward pre-hooks: hook(module, args) (or with_kwargs: hook(module, args, kwargs)); a value returned
#    replaces the arguments (a non-tuple becomes a 1-tuple; with_kwargs returns (args, kwargs));
# 2. with backward hooks registered, the tensor arguments pass through an identity Function whose backward
#    sees the gradients w.r.t. them (grad_input);
# 3. forward;
# 4. forward hooks: hook(module, args, output) (with_kwargs: hook(module, args, kwargs, output)); a value
#    returned replaces the output. A hook registered with always_call=True runs even when forward raised;
# 5. with backward hooks registered, the tensor outputs pass through an identity Function whose backward sees
#    grad_output first: the backward pre-hooks run there, hook(module, grad_output), and may replace it.
# In backward, a full backward hook runs once the gradients w.r.t. the module's inputs are known:
# hook(module, grad_input, grad_output), one entry per tensor argument (zeros for an argument that needs no
# gradient, as torch's); a tuple returned replaces grad_input. Where no argument needs a gradient it runs at
# the outputs, with grad_input all None, as torch's does. Tensors inside dicts or other containers are not followed
# (torch's BackwardHook neither). A module with no hook pays one attribute lookup per call: Module.__call__
# asks _hooks_any, which holds every hook of every kind, whether to take this path.


class _GradsSeen:
    """One call's link between its output identity (which sees grad_output) and its input identity."""

    def __init__(self, module, n_inputs, inputs_hooked):
        self.module, self.n_inputs, self.inputs_hooked = module, n_inputs, inputs_hooked
        self.grad_output = None


class _BackwardHookIdentity(Function):
    """Identity on tensors; its backward hands the gradients to `on_grads`, which may replace them."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors  # backward gets zeros where no gradient came, as torch's hooks see them

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))


def _tensors_of(value):
    """(positions, tensors) of value's tensors: a tensor, or the tensors in a tuple or list."""
    if isinstance(value, Tensor):
        return [None], [value]
    if isinstance(value, (tuple, list)):
        at = [i for i, v in enumerate(value) if isinstance(v, Tensor)]
        return at, [value[i] for i in at]
    return [], []


def _put_back(value, at, tensors):
    if at == [None]:
        return tensors[0]
    items = list(value)
    for i, t in zip(at, tensors):
        items[i] = t
    return type(value)(items) if isinstance(value, tuple) else items


def _run_grad_hooks(module, hooks, grads, call, what, per):
    """Runs each hook, call(hook, grads); a value returned replaces grads and must hold one gradient per `per`."""
    for hook in list(hooks):
        result = call(hook, grads)
        if result is not None:
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grads):
                raise RuntimeError(f"{what} {hook!r} of {type(module).__name__} returned {len(result)} gradient(s); "
                                   f"expected one per {per}, {len(grads)}")
            grads = result
    return grads


def _run_full_hooks(seen, grad_input):
    return _run_grad_hooks(seen.module, seen.module._backward_hooks.values(), grad_input,
                           lambda hook, g: hook(seen.module, g, seen.grad_output), "backward hook", "input")


def hook_inputs(module, args):
    """Step 2: the arguments, their tensors passed through the input identity when one needs a gradient."""
    at, tensors = _tensors_of(args)
    hooked = _C.is_grad_enabled() and any(t.requires_grad for t in tensors)
    seen = _GradsSeen(module, len(tensors), hooked)
    if not hooked:
        return args, seen

    def on_input_grads(grads):
        return _run_full_hooks(seen, tuple(grads))

    wrapped = _BackwardHookIdentity.apply(on_input_grads, *tensors)
    return _put_back(args, at, list(wrapped)), seen


def hook_outputs(module, result, seen):
    """Step 5: the output, its tensors passed through the output identity."""
    at, tensors = _tensors_of(result)
    if not (_C.is_grad_enabled() and any(t.requires_grad for t in tensors)):
        return result

    def on_output_grads(grads):
        grads = _run_grad_hooks(module, module._backward_pre_hooks.values(), tuple(grads),
                                lambda hook, g: hook(module, g), "backward pre-hook", "output")
        seen.grad_output = grads
        if not seen.inputs_hooked and module._backward_hooks:
            _run_full_hooks(seen, (None,) * seen.n_inputs)
        return grads

    wrapped = _BackwardHookIdentity.apply(on_output_grads, *tensors)
    return _put_back(result, at, list(wrapped))


def call_with_hooks(module, args, kwargs):
    """Module.__call__ when a hook is registered (Note [Module hooks])."""
    for hook_id, hook in list(module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"forward pre-hook {hook!r} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result!r}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward_hooked = bool(module._backward_hooks or module._backward_pre_hooks)
    if backward_hooked:
        args, seen = hook_inputs(module, args)
    try:
        result = module.forward(*args, **kwargs)
    except BaseException:
        for hook_id, hook in list(module._forward_hooks.items()):
            if hook_id in module._forward_hooks_always_called:
                try:
                    hook(module, args, kwargs, None) if hook_id in module._forward_hooks_with_kwargs else \
                        hook(module, args, None)
                except Exception:  # noqa: BLE001 - forward's error is the one to raise, as torch does
                    pass
        raise
    for hook_id, hook in list(module._forward_hooks.items()):
        replaced = (hook(module, args, kwargs, result) if hook_id in module._forward_hooks_with_kwargs else
                    hook(module, args, result))
        if replaced is not None:
            result = replaced
    if backward_hooked:
        result = hook_outputs(module, result, seen)
    return result
