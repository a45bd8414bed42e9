"""The tile product of the suite's GEMM-shaped kernels (matmul, conv2d, attention), with its precision
switch stated once (inlined by Triton into each kernel)."""
import triton
import triton.language as tl


@triton.jit
def dot(a, b, acc, PRECISION: tl.constexpr):
    """acc + a @ b (acc None: a @ b) in float32. Note [Float32 products] (csrc/ops/suite/families.h):
    PRECISION 0 TF32 (one tensor-core product of inputs rounded to 10 mantissa bits), 1 IEEE (FMA in
    float32), 2 TF32x3 (each input split into a TF32 head and a TF32 tail; three tensor-core products,
    the tail x tail one dropped). 16-bit inputs pass 0: their products are exact in float32."""
    if PRECISION == 1:
        return tl.dot(a, b, acc, input_precision="ieee")
    elif PRECISION == 2:
        return tl.dot(a, b, acc, input_precision="tf32x3")
    else:
        return tl.dot(a, b, acc)
