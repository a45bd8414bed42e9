"""Triton kernels launched from Python through kernel caches (kernels/cache.py, policy kernels.cache).

- adam_step / sgd_step: one fused launch per parameter tensor updating the parameter and its
  optimizer state in place (vt.optim's fused=True takes the multi-tensor ops vt::_fused_adamw_ /
  vt::_fused_sgd_ instead: vibetensor/ sits below kernels/ and does not import it);
- rms_norm: a row-wise fused RMSNorm forward.

Each computes in float32 and stores in the tensors' dtype (float32, float16 or bfloat16). The module
imports without Triton; the functions then raise RuntimeError.
"""
from vibetensor import _C
from vibetensor.kernels.cache import KernelCache
from vibetensor.kernels.triton_runtime import TritonPointer, compile_on, cuda_index, launch_on, require, triton

FUSED_DTYPES = ("float32", "float16", "bfloat16")
_ELEMENTWISE_BLOCK = 1024
_ELEMENTWISE_WARPS = 4
_MAX_ROW = 65536

if triton is not None:
    import triton.language as tl

    from vibetensor.kernels.triton.optim import adam_update, sgd_update

    # The per-element updates are the suite's multi-tensor ones (kernels/triton/optim.py), one block each.
    @triton.jit
    def _adam_kernel(param_ptr, grad_ptr, exp_avg_ptr, exp_avg_sq_ptr, max_exp_avg_sq_ptr, n_elements, lr_decay,
                     weight_decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps,
                     DECAY: tl.constexpr, AMSGRAD: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr):
        offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        adam_update(param_ptr, grad_ptr, exp_avg_ptr, exp_avg_sq_ptr, max_exp_avg_sq_ptr, offsets, offsets < n_elements,
                    lr_decay, weight_decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps,
                    DECAY, AMSGRAD, MAXIMIZE)

    @triton.jit
    def _sgd_kernel(param_ptr, grad_ptr, momentum_buffer_ptr, n_elements, lr, weight_decay, momentum,
                    one_minus_dampening, MOMENTUM: tl.constexpr, FIRST: tl.constexpr, NESTEROV: tl.constexpr,
                    MAXIMIZE: tl.constexpr, HAS_DECAY: tl.constexpr, BLOCK: tl.constexpr):
        offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        sgd_update(param_ptr, grad_ptr, momentum_buffer_ptr, offsets, offsets < n_elements, lr, weight_decay, momentum,
                   one_minus_dampening, MOMENTUM, FIRST, NESTEROV, MAXIMIZE, HAS_DECAY)

    @triton.jit
    def _rms_norm_kernel(x_ptr, weight_ptr, out_ptr, n_cols, eps,
                         HAS_WEIGHT: tl.constexpr, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
        mean_square = tl.sum(x * x, axis=0) / n_cols
        y = x * (1.0 / tl.sqrt_rn(mean_square + eps))
        if HAS_WEIGHT:
            y = y * tl.load(weight_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def _triton_compile_fn(kernel):
    """A KernelCache compile function: Triton compiles `kernel` for the key's specialization on the
    first launch's arguments (warmup, no launch); the launcher then launches it."""
    def launcher(device_index, grid, args, constexprs, num_warps):
        launch_on(device_index, kernel, grid, args, constexprs, num_warps)

    def compile_fn(key, device_index, grid, args, constexprs, num_warps):
        compile_on(device_index, kernel, grid, args, constexprs, num_warps)
        return launcher

    return compile_fn


_caches = {}


def _cache(name):
    """The kernel cache of the Triton kernel `_<name>_kernel` (made on first use)."""
    cache = _caches.get(name)
    if cache is None:
        cache = _caches.setdefault(name, KernelCache(name, _triton_compile_fn(globals()[f"_{name}_kernel"])))
    return cache


def kernel_caches():
    """The kernel caches created so far, by kernel name."""
    return dict(_caches)


def _check_operands(fn, tensors):
    """The CUDA device index shared by `tensors` (name -> tensor); each must be contiguous, of one
    fused dtype, and the same shape as the first."""
    require()
    (first_name, first), *_ = tensors.items()
    device = cuda_index(first)
    for name, t in tensors.items():
        if cuda_index(t) != device:
            raise RuntimeError(f"{fn}: {name} is on {t.device}, expected {first.device} like {first_name}")
        if t.dtype.name not in FUSED_DTYPES:
            raise TypeError(f"{fn}: {name} has dtype {t.dtype}, expected one of {', '.join(FUSED_DTYPES)}")
        if tuple(t.shape) != tuple(first.shape):
            raise RuntimeError(f"{fn}: {name} has shape {tuple(t.shape)}, expected {tuple(first.shape)} like {first_name}")
        if not t.is_contiguous():
            raise RuntimeError(f"{fn}: {name} must be contiguous (the fused kernel walks it as one flat array)")
    return device


def _elementwise_grid(n):
    return ((n + _ELEMENTWISE_BLOCK - 1) // _ELEMENTWISE_BLOCK,)


def adam_step(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, step,
              decoupled_weight_decay, maximize=False, max_exp_avg_sq=None):
    """One Adam/AdamW step of one parameter tensor, in place, in one launch (torch's formulas; `step`
    is the step number after incrementing, giving the bias corrections)."""
    tensors = {"param": param, "grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    if max_exp_avg_sq is not None:
        tensors["max_exp_avg_sq"] = max_exp_avg_sq
    device = _check_operands("adam_step", tensors)
    n = param.numel()
    if n == 0:
        return
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    amsgrad = max_exp_avg_sq is not None
    decay = 0 if weight_decay == 0 else 1 if decoupled_weight_decay else 2  # kernels/triton/optim.py: DECAY
    constexprs = dict(DECAY=decay, AMSGRAD=amsgrad, MAXIMIZE=bool(maximize), BLOCK=_ELEMENTWISE_BLOCK)
    args = (TritonPointer(param), TritonPointer(grad), TritonPointer(exp_avg), TritonPointer(exp_avg_sq),
            TritonPointer(max_exp_avg_sq if amsgrad else exp_avg_sq), n, float(1 - lr * weight_decay),
            float(weight_decay), float(beta1), float(1 - beta1), float(beta2), float(1 - beta2),
            float(lr / bias_correction1), float(bias_correction2_sqrt), float(eps))
    key = ("adam_step", tuple(t.dtype.name for t in tensors.values()), tuple(constexprs.items()), device)
    _cache("adam").launch(key, device, _elementwise_grid(n), args, constexprs, _ELEMENTWISE_WARPS)


def sgd_step(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize=False,
             first_step=False):
    """One SGD step of one parameter tensor, in place, in one launch (torch's formulas). With momentum,
    `momentum_buffer` is updated (on the first step it is written as the decayed gradient)."""
    tensors = {"param": param, "grad": grad}
    if momentum != 0:
        if momentum_buffer is None:
            raise RuntimeError("sgd_step: momentum != 0 needs a momentum_buffer tensor")
        tensors["momentum_buffer"] = momentum_buffer
    device = _check_operands("sgd_step", tensors)
    n = param.numel()
    if n == 0:
        return
    constexprs = dict(MOMENTUM=momentum != 0, FIRST=bool(first_step), NESTEROV=bool(nesterov),
                      MAXIMIZE=bool(maximize), HAS_DECAY=weight_decay != 0, BLOCK=_ELEMENTWISE_BLOCK)
    buf = momentum_buffer if momentum != 0 else grad  # unread when MOMENTUM is off
    args = (TritonPointer(param), TritonPointer(grad), TritonPointer(buf), n, float(lr), float(weight_decay),
            float(momentum), float(1 - dampening))
    key = ("sgd_step", tuple(t.dtype.name for t in tensors.values()), tuple(constexprs.items()), device)
    _cache("sgd").launch(key, device, _elementwise_grid(n), args, constexprs, _ELEMENTWISE_WARPS)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """torch.nn.functional.rms_norm's forward as one Triton launch per row block (no autograd:
    RuntimeError when a gradient would be needed)."""
    from vibetensor.autograd.grad_mode import is_grad_enabled

    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(normalized_shape):]) != normalized_shape or not normalized_shape:
        raise RuntimeError(f"rms_norm: normalized_shape {list(normalized_shape)} must be the trailing dimensions of "
                           f"the input of shape {list(input.shape)}")
    if is_grad_enabled() and (input.requires_grad or (weight is not None and weight.requires_grad)):
        raise RuntimeError("kernels.triton_ops.rms_norm is forward-only: call it under no_grad() or use "
                           "vt.nn.functional.rms_norm for gradients")
    x = input.contiguous()
    out = _C._ops.empty(list(x.shape), x.dtype, x.device)
    tensors = {"input": x, "out": out}
    device = _check_operands("rms_norm", tensors)
    n_cols = 1
    for s in normalized_shape:
        n_cols *= s
    if n_cols > _MAX_ROW:
        raise RuntimeError(f"rms_norm: rows of {n_cols} elements exceed the one-block row kernel's limit of {_MAX_ROW}")
    if weight is not None:
        if tuple(weight.shape) != normalized_shape:
            raise RuntimeError(f"rms_norm: weight has shape {list(weight.shape)}, expected {list(normalized_shape)}")
        weight = weight.contiguous()
        if cuda_index(weight) != device or weight.dtype.name not in FUSED_DTYPES:
            raise RuntimeError(f"rms_norm: weight must be a {', '.join(FUSED_DTYPES)} tensor on {x.device}, got "
                               f"{weight.dtype} on {weight.device}")
    rows = x.numel() // n_cols
    if rows == 0:
        return out
    if eps is None:
        eps = {"float32": 1.1920928955078125e-07, "float16": 0.0009765625, "bfloat16": 0.0078125}[x.dtype.name]
    block = 1 << (n_cols - 1).bit_length()
    num_warps = 4 if block <= 2048 else 8 if block <= 8192 else 16
    constexprs = dict(HAS_WEIGHT=weight is not None, BLOCK=block)
    args = (TritonPointer(x), TritonPointer(weight if weight is not None else x), TritonPointer(out), n_cols,
            float(eps))
    key = ("rms_norm", x.dtype.name, weight.dtype.name if weight is not None else None, tuple(constexprs.items()),
           num_warps, device)
    _cache("rms_norm").launch(key, device, (rows,), args, constexprs, num_warps)
    return out
