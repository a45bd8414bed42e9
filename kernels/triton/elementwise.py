"""Binary arithmetic (add and sub with alpha, mul, div) and strided copies over operands broadcast to one
shape of up to 4 dims (the launcher merges dims first): what vt::add / sub / mul / div, their in-place
forms and same-dtype copies run on CUDA when kernels.scope=all routes them to the suite, as
VibeTensor's examples launch their elementwise Triton kernels (vibe_kernels/activation and the
elementwise ops of python/vibetensor; Note [Suite scope] in csrc/ops/suite/families.h).

Launch contract (``*T`` is a pointer whose pointee dtype is the output's, fp32/bf16/fp16; x and y share
it; sizes and strides are in elements; a broadcast dim has stride 0):

binary_fwd (out[i] = x[i] OPCODE y[i] for every index i of the [d0, d1, d2, d3] output, n = d0*d1*d2*d3):
    params:     x *T, y *T, out *T, n i64, alpha fp32, scalar fp32, d1 i64, d2 i64, d3 i64,
                xs0 i64, xs1 i64, xs2 i64, xs3 i64, ys0 i64, ys1 i64, ys2 i64, ys3 i64,
                os0 i64, os1 i64, os2 i64, os3 i64
    constexprs: OPCODE, SCALAR, FLAT, BLOCK
    OPCODE:     0 x + alpha * y, 1 x - alpha * y, 2 x * y, 3 x / y (correctly rounded), 4 x (a copy; y unused)
    SCALAR:     0 both operands are tensors, 1 y is the value `scalar` (y unused), 2 x is (x unused)
    FLAT:       1 when every tensor operand and out are contiguous over the same n elements (offset = i;
                the d and stride parameters are unused)
    grid:       (cdiv(n, BLOCK),)
    config:     config_binary_fwd(n) -> {BLOCK: 1024, num_warps: 4}
Compiled generic and aligned (tt.divisibility 16 on the pointers and n; the d*/s* parameters are not
aligned parameters).
"""
import triton
import triton.language as tl

ADD, SUB, MUL, DIV, COPY = 0, 1, 2, 3, 4
_BLOCK = 1024


@triton.jit
def _offset(i, d1, d2, d3, s0, s1, s2, s3):
    """The element offset of linear index i of a [d0, d1, d2, d3] row-major shape under strides s."""
    i3 = i % d3
    t = i // d3
    i2 = t % d2
    t = t // d2
    i1 = t % d1
    i0 = t // d1
    return i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3


@triton.jit
def _binary_fwd(x_ptr, y_ptr, out_ptr, n, alpha, scalar, d1, d2, d3, xs0, xs1, xs2, xs3, ys0, ys1, ys2, ys3,
                os0, os1, os2, os3, OPCODE: tl.constexpr, SCALAR: tl.constexpr, FLAT: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    if FLAT:
        xo = i
        yo = i
        oo = i
    else:
        xo = _offset(i, d1, d2, d3, xs0, xs1, xs2, xs3)
        yo = _offset(i, d1, d2, d3, ys0, ys1, ys2, ys3)
        oo = _offset(i, d1, d2, d3, os0, os1, os2, os3)
    if SCALAR == 2:
        x = scalar
    else:
        x = tl.load(x_ptr + xo, mask=mask, other=0.0).to(tl.float32)
    if OPCODE == 4:
        r = x
    else:
        if SCALAR == 1:
            y = scalar
        else:
            y = tl.load(y_ptr + yo, mask=mask, other=1.0).to(tl.float32)
        if OPCODE == 0:
            r = x + alpha * y
        elif OPCODE == 1:
            r = x - alpha * y
        elif OPCODE == 2:
            r = x * y
        else:
            r = tl.math.div_rn(x, y)
    tl.store(out_ptr + oo, r.to(out_ptr.dtype.element_ty), mask=mask)


def config_binary_fwd(n):
    return {"BLOCK": _BLOCK, "num_warps": 4}


KERNELS = {"binary_fwd": _binary_fwd}
