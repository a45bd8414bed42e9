"""CuTe DSL (nvidia-cutlass-dsl) kernels of the suite, one file per family, each kernel keeping the launch
contract of the Triton kernel of the same name (kernels/triton/<family>.py: its parameters in order, its
constexprs, grid and warps), so the C++ op that launches the Triton kernel launches this one unchanged
under kernels.backend=cute (Note [CuTe DSL kernels on the C++ launch path]).

Each family module holds ``KERNELS = {name: build}``; ``build(spec)`` returns ``(host, shared_bytes)``:
``host`` a ``@cute.jit`` function taking the contract's non-constexpr parameters in order (pointers as
``cute.Pointer``, i32 / i64 as ``cutlass.Int32`` / ``cutlass.Int64``, fp32 as ``cutlass.Float32``), then
``grid_x: cutlass.Int32`` and ``stream: cuda.CUstream``, that launches the kernel with grid (grid_x, 1, 1),
block (32 * spec.warps, 1, 1) and ``shared_bytes`` of dynamic shared memory on ``stream``. The module
imports without cutlass; the family modules need it.
"""
from dataclasses import dataclass, field

# Note [CuTe DSL kernels on the C++ launch path]
# A CuTe DSL kernel whose parameters are raw pointers and scalars (tensors are built inside the kernel
# with cute.make_tensor from the pointer and the stride arguments) lowers to a cubin entry with exactly
# those parameters: .param .u64 per pointer, .u32 / .u64 / .f32 per scalar, and .reqntid fixed at
# 32 * warps. That is the layout the suite's C++ launcher already fills for Triton's cubins (one slot
# per parameter; the two trailing scratch pointers it adds for Triton are beyond the entry's parameter
# count and never read). So kernels/cute_compiler.py compiles the host function with cute.compile,
# keeps the cubin (--keep-cubin) and hands it to C++, which loads it through the driver and launches it
# with cuLaunchKernel as any suite kernel: no Python, no CuTe DSL runtime on the per-op path. The same
# compiled host function is CuTe DSL's own launcher, which kernels.launch=python calls instead.


@dataclass(frozen=True)
class KernelSpec:
    """One specialization, as the C++ launcher asks for it (kernels/cute_compiler.py builds it)."""
    kernel: str
    dtypes: dict = field(default_factory=dict)     # pointer parameter -> "fp32" | "bf16" | "fp16" | "i64" | "i32" | ...
    scalars: dict = field(default_factory=dict)    # scalar parameter -> "i32" | "i64" | "fp32"
    constants: dict = field(default_factory=dict)  # constexpr -> int
    warps: int = 4
    aligned: bool = False  # every pointer 16-byte aligned; *_stride, n_cols, n multiples of 16 (Note [Aligned variants])

    @property
    def threads(self):
        return 32 * self.warps
