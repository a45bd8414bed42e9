"""Matrix products C[b] = A[b] @ B[b] over a batch of evenly spaced (M x K) and (K x N) operands of any
strides (a transposed operand is a stride swap, so the backward's A^T @ dC and dC @ B^T need no copy),
accumulated in float32: what vt::matmul runs on CUDA when kernels.scope=all routes it to the suite, as
VibeTensor's examples run their Triton GEMMs (vibe_kernels/gemm, Note [Suite scope] in
csrc/ops/suite/families.h).

Launch contract (``*T`` is a pointer whose pointee dtype is the operands', fp32/bf16/fp16; c's last
dim is contiguous; strides are in elements):
Each kernel is compiled generic and aligned (tt.divisibility 16 on the pointers, every stride_* and n_m,
n_n, n_k); the
launcher picks by the arguments (kernels/triton/__init__.py). A_UNIT and B_UNIT name an operand's unit
stride, which then is a literal 1 in the kernel (so Triton knows the contiguous dim and, in the aligned
variant, loads 16 bytes at a time) and whose parameter the launcher passes as 0.

matmul_fwd:
    params:     a *T, b *T, c *T, n_m i32, n_n i32, n_k i32, stride_ab i64, stride_am i64, stride_ak i64,
                stride_bb i64, stride_bk i64, stride_bn i64, stride_cb i64, stride_cm i64
    constexprs: PRECISION, A_UNIT, B_UNIT, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M
    A_UNIT:     0 none (both strides given), 1 stride_ak is 1 (row-major A), 2 stride_am is 1 (A^T stored)
    B_UNIT:     0 none, 1 stride_bn is 1 (row-major B), 2 stride_bk is 1 (B^T stored)
    grid:       (cdiv(n_m, BLOCK_M) * cdiv(n_n, BLOCK_N), n_batch)
    config:     config_matmul_fwd(n_m, n_n, n_k, dtype_bytes, precision) -> {BLOCK_M, BLOCK_N, BLOCK_K,
                GROUP_M, num_warps, num_stages}: BLOCK_M = min(128, max(16, next_pow2(n_m))), the same for
                BLOCK_N from n_n, BLOCK_K = 32 for 4-byte operands and 64 for 2-byte ones, GROUP_M = 8,
                num_warps = 8 when BLOCK_M * BLOCK_N >= 128 * 128 else 4, num_stages = 3; TF32x3
                (precision 2): 128 x 64 x 32 tiles, 4 warps, 4 stages (the fastest of
                benchmarks/bench_gemm_precision.py's candidates at the workloads' shapes on an H100)
    PRECISION:  of float32 products (Note [Float32 products]): 1 IEEE, in full float32 (as cuBLAS's
                CUBLAS_COMPUTE_32F); 0 TF32, tensor cores round the inputs to 10 mantissa bits
                (vt.backends.cuda.matmul.allow_tf32); 2 TF32x3, three tensor-core products of the inputs'
                TF32 heads and tails (CUTLASS's 3xTF32), about float32's accuracy. 2-byte operands pass 0
                (their products are exact in float32).
"""
import triton
import triton.language as tl

from . import next_pow2
from ._dot import dot

MAX_BLOCK = 128
TF32, IEEE, TF32X3 = 0, 1, 2  # PRECISION


@triton.jit
def _matmul_fwd(a_ptr, b_ptr, c_ptr, n_m, n_n, n_k, stride_ab, stride_am, stride_ak, stride_bb, stride_bk, stride_bn,
                stride_cb, stride_cm, PRECISION: tl.constexpr, A_UNIT: tl.constexpr, B_UNIT: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    # Output tiles in groups of GROUP_M tile rows, so tiles running together share A's rows and B's
    # columns in L2.
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(n_m, BLOCK_M)
    tiles_n = tl.cdiv(n_n, BLOCK_N)
    group = pid // (GROUP_M * tiles_n)
    first_m = group * GROUP_M
    group_rows = min(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % (GROUP_M * tiles_n)) % group_rows
    pid_n = (pid % (GROUP_M * tiles_n)) // group_rows
    batch = tl.program_id(1).to(tl.int64)
    if A_UNIT == 1:
        stride_ak = 1
    elif A_UNIT == 2:
        stride_am = 1
    if B_UNIT == 1:
        stride_bn = 1
    elif B_UNIT == 2:
        stride_bk = 1

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + batch * stride_ab + rm.to(tl.int64)[:, None] * stride_am + rk[None, :].to(tl.int64) * stride_ak
    b_ptrs = b_ptr + batch * stride_bb + rk.to(tl.int64)[:, None] * stride_bk + rn[None, :].to(tl.int64) * stride_bn
    m_ok = rm < n_m
    n_ok = rn < n_n
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, n_k, BLOCK_K):
        k_ok = rk < n_k - k0
        a = tl.load(a_ptrs, mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        acc = dot(a, b, acc, PRECISION)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    c_ptrs = c_ptr + batch * stride_cb + rm.to(tl.int64)[:, None] * stride_cm + rn[None, :]
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


def config_matmul_fwd(n_m, n_n, n_k, dtype_bytes, precision):
    if precision == TF32X3:
        return {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4}
    block_m = min(MAX_BLOCK, max(16, next_pow2(n_m)))
    block_n = min(MAX_BLOCK, max(16, next_pow2(n_n)))
    return {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": 32 if dtype_bytes >= 4 else 64, "GROUP_M": 8,
            "num_warps": 8 if block_m * block_n >= MAX_BLOCK * MAX_BLOCK else 4, "num_stages": 3}


KERNELS = {"matmul_fwd": _matmul_fwd}
