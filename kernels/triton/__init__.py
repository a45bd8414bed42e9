"""Triton kernel suite compiled ahead of time and launched from C++ (cuLaunchKernel), one file per family.

Each family module (softmax, layer_norm, rms_norm, cross_entropy, gelu, rotary, matmul, elementwise) holds plain ``@triton.jit``
functions, a table ``KERNELS = {name: fn}`` and, per kernel, a pure ``config_<name>(...)`` giving its
constexprs, ``num_warps`` and grid-shaping values from the shape. The module docstrings state each
kernel's launch contract. Rules every kernel follows (see Note [Ahead-of-time launch contract]):

- non-constexpr parameters are pointers (``*fp32``-style, the pointee dtype is the tensor's), ``i32``,
  ``i64`` and ``fp32`` scalars; constexprs (ints / bools) come after them, with no defaults;
- 2-D tensors are row-major views ``[n_rows, n_cols]`` whose last dim is contiguous and whose row stride
  (in elements, ``i64``) is an argument; offsets are computed in int64;
- compute is in float32; stores are in the output tensor's dtype;
- no kernel uses global scratch (the C++ launcher passes null scratch pointers);
- each kernel is compiled twice per (dtypes, constexprs, num_warps): generic, and ALIGNED with the
  attribute ``tt.divisibility = 16`` on every parameter for which ``aligned_param(name)`` holds
  (pointers, ``*_stride`` and ``stride_*``, ``n_cols``, ``n``, the matmul's ``n_m``, ``n_n``, ``n_k``). The launcher takes the aligned cubin when every pointer
  argument is 16-byte aligned (or null) and every such integer argument is a multiple of 16, else the
  generic one (Note [Aligned variants]).

The config helpers below are the shared rules the family ``config_*`` functions apply; a C++
adapter mirrors them exactly, so they use only powers of two and a few thresholds.
"""

# Note [Ahead-of-time launch contract]
# The C++ side launches a cubin with cuLaunchKernel, so it must know the parameter list exactly as
# Triton lays it out: constexprs are dropped from the cubin's parameters, and Triton appends two
# pointer parameters (global and profile scratch) that the launcher passes as null. Triton would also
# specialize ints equal to 1 or divisible by 16 when it compiles from a call; compiled from an explicit
# signature it does not, so one cubin per (dtype, constexprs, num_warps) serves every shape.

# Note [Aligned variants]
# Compiled from an explicit signature, Triton knows nothing of alignment: a bf16 row is then read
# with 2-byte loads (ld.global.b16), a fp32 row with 4-byte ones, far from copy bandwidth. With
# divisibility 16 on the pointers, row strides and n_cols (the mask bound) it emits 16-byte vector
# accesses (ld.global.v4.b32), as Triton's own launcher would after specializing on the arguments.
# The rule is by parameter name so the C++ side can apply it to any kernel of the suite.


def aligned_param(name):
    """Whether parameter `name` carries tt.divisibility = 16 in a kernel's aligned variant: pointers,
    strides (row kernels write x_stride, attention stride_qt) and the mask bounds n_cols, n and the
    matmul's n_m, n_n, n_k."""
    return (name.endswith("_ptr") or name.endswith("_stride") or name.startswith("stride_")
            or name in ("n_cols", "n", "n_m", "n_n", "n_k"))


# Rows up to this many columns are held in registers (one load, reductions, one store); longer rows
# loop over column blocks of LOOP_BLOCK. 8192 fp32 values over 16 warps is 16 registers per thread
# per live row-sized value, which the backward kernels (x, dy, w, dw accumulators) still fit.
MAX_SINGLE_COLS = 8192
LOOP_BLOCK = 4096
# Several short rows share one program (a [ROWS, BLOCK] tile) until the tile has this many elements:
# at 128 or 256 columns one row per program would leave most lanes of a warp idle.
TILE_ELEMS = 2048


def next_pow2(n):
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def cdiv(a, b):
    return (a + b - 1) // b


def row_config(n_cols):
    """The tiling of a row kernel: {"ROWS", "BLOCK", "SINGLE", "num_warps"}.

    SINGLE (n_cols <= 8192): BLOCK = max(16, next_pow2(n_cols)), ROWS = max(1, 2048 // BLOCK) rows per
    program, num_warps = 4 up to 2048 tile elements, 8 at 4096, 16 at 8192.
    Looped (n_cols > 8192): ROWS = 1, BLOCK = 4096 columns per step, num_warps = 8.
    """
    if n_cols <= MAX_SINGLE_COLS:
        block = max(16, next_pow2(n_cols))
        rows = max(1, TILE_ELEMS // block)
        return {"ROWS": rows, "BLOCK": block, "SINGLE": True,
                "num_warps": max(4, min(16, rows * block // 512))}
    return {"ROWS": 1, "BLOCK": LOOP_BLOCK, "SINGLE": False, "num_warps": 8}


def persistent_programs(n_tiles, num_warps, n_sms):
    """Programs of a kernel that loops over row tiles and writes one partial-sum row per program:
    about 32 resident warps per SM, never more programs than tiles."""
    return max(1, min(n_tiles, n_sms * max(1, 32 // num_warps)))


# Note [Norm backward programs]
# Each program of a norm backward writes one partial row of n_cols fp32 that norm_bwd_dwdb reads
# back, and programs past what the SMs' registers hold run as a second wave. One program per SM at
# 16 warps (the 8192-column tile: ~125 registers a thread, one program fits), two at 8 (and four at
# 4) keep every SM busy with the fewest partial rows: on an H100 this was 1.04-1.95x faster than
# about 32 resident warps per SM at every shape of benchmarks/tune_norm_bwd.py.


def persistent_row_config(n_rows, n_cols, n_sms):
    """row_config(n_cols) with num_warps raised to at least 8, plus n_programs = n_sms x
    max(1, 16 // num_warps) (never more than the row tiles; Note [Norm backward programs]), for the
    backward kernels that walk row tiles and write one partial-sum row per program. They keep x, dy,
    w * dy and two [ROWS, BLOCK] accumulators live: a 2048-element tile needs ~220 registers a thread
    at 4 warps, ~70 at 8."""
    c = row_config(n_cols)
    c["num_warps"] = max(8, c["num_warps"])
    c["n_programs"] = max(1, min(cdiv(n_rows, c["ROWS"]), n_sms * max(1, 16 // c["num_warps"])))
    return c
