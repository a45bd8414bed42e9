"""Multi-tensor optimizer steps: one launch updates every parameter of a bucket (one device, one dtype),
what vt::_fused_adamw_ and vt::_fused_sgd_ run on CUDA when the suite serves the optim family (fused=True
and optim.step=multi_tensor; Note [Multi-tensor optimizer step] in csrc/ops/optim/multi_tensor.h). The
counterpart of VibeTensor's Triton AdamW and of torch's fused optimizers, computing torch's single-tensor
formulas in float32 with correctly rounded sqrt and division, as the native kernels do.

The tensors travel as a chunk table (Note [Chunk table] in csrc/ops/suite/multi_tensor.h): one row of six
int64 per chunk of at most CHUNK elements of one parameter, [t0, t1, t2, t3, t4, n], where ti is the
address of list i's tensor at the chunk's first element (0 for a list the step does not use) and n the
chunk's element count. Program i updates row i.

Launch contract (``*T``: a pointer of the parameters' dtype, fp32/bf16/fp16, never read: it carries the
dtype of the addresses in the table; rows_ptr is *i64):

adam_multi (rows: params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, n):
    params:     rows_ptr *i64, like_ptr *T, lr_decay fp32, weight_decay fp32, beta1 fp32, one_minus_beta1 fp32,
                beta2 fp32, one_minus_beta2 fp32, step_size fp32, bc2_sqrt fp32, eps fp32
    constexprs: DECAY, AMSGRAD, MAXIMIZE, ALIGNED, CHUNK, BLOCK
    DECAY:      0 none, 1 decoupled (p *= lr_decay, AdamW), 2 L2 (g += weight_decay * p, Adam)
    per element: m += (1 - b1)(g - m); v = b2 v + (1 - b2) g g; AMSGRAD: vmax = max(vmax, v) replaces v;
                p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)   (step_size = lr / (1 - b1^t))
sgd_multi (rows: params, grads, momentum_buffers, 0, 0, n):
    params:     rows_ptr *i64, like_ptr *T, lr fp32, weight_decay fp32, momentum fp32, one_minus_dampening fp32
    constexprs: MOMENTUM, FIRST, NESTEROV, MAXIMIZE, HAS_DECAY, ALIGNED, CHUNK, BLOCK
    per element: g += wd p; MOMENTUM: buf = g (FIRST) or momentum buf + (1 - dampening) g,
                g = g + momentum buf (NESTEROV) or buf; p -= lr g
    ALIGNED:    1 when every address in the table is 16-byte aligned (the table's rows start at multiples of
                CHUNK elements, so a 16-byte aligned tensor gives aligned rows): full chunks then use vector
                accesses
    grid:       (rows,)
    config:     config_adam_multi() / config_sgd_multi() -> {CHUNK: 16384, BLOCK: 1024, num_warps: 4}
sumsq_multi (rows: grads, 0, 0, 0, 0, n), vt::_fused_clip_grad_norm_'s first step (Note [Multi-tensor gradient
clipping] in csrc/ops/optim/clip_grad_norm.h):
    params:     rows_ptr *i64, like_ptr *T, partial_ptr *fp32
    constexprs: ALIGNED, CHUNK, BLOCK
    per row:    partial[row] = sum over the chunk of float32(g)^2, in a fixed order
    grid:       (rows,); config_sumsq_multi() as config_adam_multi()
clip_coef, its second:
    params:     partial_ptr *fp32, norm_coef_ptr *fp32, n_partial i32, max_norm fp32
    constexprs: BLOCK
    one program: norm = sqrt(sum of partial[0:n_partial]) (a fixed order); norm_coef[0] = norm,
                norm_coef[1] = max_norm / (norm + 1e-6) clamped to 1 (NaN stays NaN)
    grid:       (1,); config_clip_coef() -> {BLOCK: 1024, num_warps: 4}
scale_multi (rows as sumsq_multi), its third:
    params:     rows_ptr *i64, like_ptr *T, norm_coef_ptr *fp32
    constexprs: ALIGNED, CHUNK, BLOCK
    per element: g *= norm_coef[1], unless it is 1 (x * 1 is x: no store)
    grid:       (rows,); config_scale_multi() as config_adam_multi()
rows_ptr and like_ptr are the only pointer parameters of adam_multi and sgd_multi, and the others' float32
buffers are contiguous, so the aligned variant changes nothing here.

adam_update and sgd_update, the per-element updates over one block of offsets, are shared with the
per-tensor kernels that kernels/triton_ops.py launches from Python (policy kernels.cache).
"""
import triton
import triton.language as tl

ROW_SLOTS = 6
_CHUNK = 16384
_BLOCK = 1024


@triton.jit
def _address(row, slot, like_ptr, ALIGNED: tl.constexpr):
    p = tl.load(row + slot).to(tl.pointer_type(like_ptr.dtype.element_ty))
    if ALIGNED:
        p = tl.multiple_of(p, 16)
    return p


@triton.jit
def adam_update(p_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, offs, mask, lr_decay, weight_decay, beta1, one_minus_beta1, beta2,
                one_minus_beta2, step_size, bc2_sqrt, eps, DECAY: tl.constexpr, AMSGRAD: tl.constexpr,
                MAXIMIZE: tl.constexpr):
    p = tl.load(p_ptr + offs, mask=mask).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=mask).to(tl.float32)
    m = tl.load(m_ptr + offs, mask=mask).to(tl.float32)
    v = tl.load(v_ptr + offs, mask=mask).to(tl.float32)
    if MAXIMIZE:
        g = -g
    if DECAY == 1:
        p = p * lr_decay
    elif DECAY == 2:
        g = g + p * weight_decay
    m = m + one_minus_beta1 * (g - m)
    v = beta2 * v + one_minus_beta2 * g * g
    if AMSGRAD:
        vmax = tl.load(vmax_ptr + offs, mask=mask).to(tl.float32)
        vmax = tl.where(vmax < v, v, vmax)
        tl.store(vmax_ptr + offs, vmax.to(vmax_ptr.dtype.element_ty), mask=mask)
        denom = tl.math.div_rn(tl.math.sqrt_rn(vmax), bc2_sqrt) + eps
    else:
        denom = tl.math.div_rn(tl.math.sqrt_rn(v), bc2_sqrt) + eps
    p = p - tl.math.div_rn(step_size * m, denom)
    tl.store(p_ptr + offs, p.to(p_ptr.dtype.element_ty), mask=mask)
    tl.store(m_ptr + offs, m.to(m_ptr.dtype.element_ty), mask=mask)
    tl.store(v_ptr + offs, v.to(v_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _adam_multi(rows_ptr, like_ptr, lr_decay, weight_decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size,
                bc2_sqrt, eps, DECAY: tl.constexpr, AMSGRAD: tl.constexpr, MAXIMIZE: tl.constexpr,
                ALIGNED: tl.constexpr, CHUNK: tl.constexpr, BLOCK: tl.constexpr):
    row = rows_ptr + tl.program_id(0).to(tl.int64) * 6
    p_ptr = _address(row, 0, like_ptr, ALIGNED)
    g_ptr = _address(row, 1, like_ptr, ALIGNED)
    m_ptr = _address(row, 2, like_ptr, ALIGNED)
    v_ptr = _address(row, 3, like_ptr, ALIGNED)
    vmax_ptr = _address(row, 4, like_ptr, ALIGNED)
    n = tl.load(row + 5).to(tl.int32)  # at most CHUNK
    if n == CHUNK:  # a full chunk: no mask, so aligned rows get vector accesses
        for start in range(0, CHUNK, BLOCK):
            offs = start + tl.arange(0, BLOCK)
            adam_update(p_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, offs, None, lr_decay, weight_decay, beta1,
                        one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, DECAY, AMSGRAD, MAXIMIZE)
    else:
        for start in range(0, n, BLOCK):
            offs = start + tl.arange(0, BLOCK)
            adam_update(p_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, offs, offs < n, lr_decay, weight_decay, beta1,
                        one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, DECAY, AMSGRAD, MAXIMIZE)


@triton.jit
def sgd_update(p_ptr, g_ptr, buf_ptr, offs, mask, lr, weight_decay, momentum, one_minus_dampening,
               MOMENTUM: tl.constexpr, FIRST: tl.constexpr, NESTEROV: tl.constexpr, MAXIMIZE: tl.constexpr,
               HAS_DECAY: tl.constexpr):
    p = tl.load(p_ptr + offs, mask=mask).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=mask).to(tl.float32)
    if MAXIMIZE:
        g = -g
    if HAS_DECAY:
        g = g + p * weight_decay
    if MOMENTUM:
        if FIRST:
            buf = g
        else:
            buf = momentum * tl.load(buf_ptr + offs, mask=mask).to(tl.float32) + one_minus_dampening * g
        tl.store(buf_ptr + offs, buf.to(buf_ptr.dtype.element_ty), mask=mask)
        if NESTEROV:
            g = g + momentum * buf
        else:
            g = buf
    p = p - lr * g
    tl.store(p_ptr + offs, p.to(p_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _sgd_multi(rows_ptr, like_ptr, lr, weight_decay, momentum, one_minus_dampening, MOMENTUM: tl.constexpr,
               FIRST: tl.constexpr, NESTEROV: tl.constexpr, MAXIMIZE: tl.constexpr, HAS_DECAY: tl.constexpr,
               ALIGNED: tl.constexpr, CHUNK: tl.constexpr, BLOCK: tl.constexpr):
    row = rows_ptr + tl.program_id(0).to(tl.int64) * 6
    p_ptr = _address(row, 0, like_ptr, ALIGNED)
    g_ptr = _address(row, 1, like_ptr, ALIGNED)
    buf_ptr = _address(row, 2, like_ptr, ALIGNED)
    n = tl.load(row + 5).to(tl.int32)  # at most CHUNK
    if n == CHUNK:
        for start in range(0, CHUNK, BLOCK):
            offs = start + tl.arange(0, BLOCK)
            sgd_update(p_ptr, g_ptr, buf_ptr, offs, None, lr, weight_decay, momentum, one_minus_dampening,
                       MOMENTUM, FIRST, NESTEROV, MAXIMIZE, HAS_DECAY)
    else:
        for start in range(0, n, BLOCK):
            offs = start + tl.arange(0, BLOCK)
            sgd_update(p_ptr, g_ptr, buf_ptr, offs, offs < n, lr, weight_decay, momentum, one_minus_dampening,
                       MOMENTUM, FIRST, NESTEROV, MAXIMIZE, HAS_DECAY)


@triton.jit
def _sumsq_multi(rows_ptr, like_ptr, partial_ptr, ALIGNED: tl.constexpr, CHUNK: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    row = rows_ptr + pid.to(tl.int64) * 6
    g_ptr = _address(row, 0, like_ptr, ALIGNED)
    n = tl.load(row + 5).to(tl.int32)  # at most CHUNK
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    if n == CHUNK:  # a full chunk: no mask, so aligned rows get vector loads
        for start in range(0, CHUNK, BLOCK):
            g = tl.load(g_ptr + start + tl.arange(0, BLOCK)).to(tl.float32)
            acc += g * g
    else:
        for start in range(0, n, BLOCK):
            offs = start + tl.arange(0, BLOCK)
            g = tl.load(g_ptr + offs, mask=offs < n, other=0.0).to(tl.float32)
            acc += g * g
    tl.store(partial_ptr + pid, tl.sum(acc, 0))


@triton.jit
def _clip_coef(partial_ptr, norm_coef_ptr, n_partial, max_norm, BLOCK: tl.constexpr):
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    full = (n_partial // BLOCK) * BLOCK
    for start in range(0, full, BLOCK):  # unmasked: vector loads in the aligned variant
        acc += tl.load(partial_ptr + start + tl.arange(0, BLOCK))
    offs = full + tl.arange(0, BLOCK)
    acc += tl.load(partial_ptr + offs, mask=offs < n_partial, other=0.0)
    norm = tl.math.sqrt_rn(tl.sum(acc, 0))
    coef = tl.math.div_rn(max_norm, norm + 1e-6)
    coef = tl.where(coef > 1.0, 1.0, coef)  # NaN > 1 is false: NaN stays, as torch's clamp
    tl.store(norm_coef_ptr, norm)
    tl.store(norm_coef_ptr + 1, coef)


@triton.jit
def _scale_multi(rows_ptr, like_ptr, norm_coef_ptr, ALIGNED: tl.constexpr, CHUNK: tl.constexpr, BLOCK: tl.constexpr):
    coef = tl.load(norm_coef_ptr + 1)
    if coef != 1.0:
        row = rows_ptr + tl.program_id(0).to(tl.int64) * 6
        g_ptr = _address(row, 0, like_ptr, ALIGNED)
        n = tl.load(row + 5).to(tl.int32)
        if n == CHUNK:
            for start in range(0, CHUNK, BLOCK):
                offs = start + tl.arange(0, BLOCK)
                g = tl.load(g_ptr + offs).to(tl.float32)
                tl.store(g_ptr + offs, (g * coef).to(g_ptr.dtype.element_ty))
        else:
            for start in range(0, n, BLOCK):
                offs = start + tl.arange(0, BLOCK)
                g = tl.load(g_ptr + offs, mask=offs < n).to(tl.float32)
                tl.store(g_ptr + offs, (g * coef).to(g_ptr.dtype.element_ty), mask=offs < n)


def config_sumsq_multi():
    return {"CHUNK": _CHUNK, "BLOCK": _BLOCK, "num_warps": 4}


def config_scale_multi():
    return {"CHUNK": _CHUNK, "BLOCK": _BLOCK, "num_warps": 4}


def config_clip_coef():
    return {"BLOCK": _BLOCK, "num_warps": 4}


def config_adam_multi():
    return {"CHUNK": _CHUNK, "BLOCK": _BLOCK, "num_warps": 4}


def config_sgd_multi():
    return {"CHUNK": _CHUNK, "BLOCK": _BLOCK, "num_warps": 4}


KERNELS = {"adam_multi": _adam_multi, "sgd_multi": _sgd_multi, "sumsq_multi": _sumsq_multi,
           "clip_coef": _clip_coef, "scale_multi": _scale_multi}
