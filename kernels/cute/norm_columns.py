"""CuTe DSL norm_bwd_dwdb: column sums of the norms' fp32 partial buffers (launch contract in
kernels/triton/layer_norm.py): out[c] = sum_r partial[r, c] in the parameter dtype, grid
(cdiv(n_cols, BLOCK_C),), each CTA owning BLOCK_C columns. Deterministic: the rows are added in a
fixed order (each thread a fixed residue class of rows, then the classes in order through shared
memory), whatever the schedule."""
import cuda.bindings.driver as cuda
import cutlass
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

from ._norm import ChunkAccess, dtype_of, load_chunk


def build_norm_bwd_dwdb(spec):
    block_c = spec.constants["BLOCK_C"]
    threads = spec.threads
    out_t = dtype_of(spec, "out_ptr")
    vec = 4 if spec.aligned else 1  # fp32 partial rows: 16-byte chunks when n_cols % 16 == 0
    groups = block_c // vec         # column chunks of the CTA
    assert threads % groups == 0, (threads, groups)
    lanes = threads // groups       # threads summing the same chunk, over rows lane, lane + lanes, ...
    unroll = max(1, spec.constants["BLOCK_R"] // lanes)  # a CTA step reads BLOCK_R rows
    tile = ChunkAccess(vec, spec.aligned)
    shared_bytes = lanes * block_c * 4

    @cute.kernel
    def kernel(partial_ptr: cute.Pointer, out_ptr: cute.Pointer, n_part_rows: Int32, n_cols: Int32):
        tid, _, _ = cute.arch.thread_idx()
        bid, _, _ = cute.arch.block_idx()
        col0 = (tid % groups) * vec          # within the CTA's columns
        lane = tid // groups
        acc = cute.make_rmem_tensor(vec, Float32)
        acc.fill(0.0)
        part = cute.make_rmem_tensor((vec, unroll), Float32)
        if bid * block_c + col0 < n_cols:  # the whole chunk is in (n_cols % vec == 0)
            col = Int64(bid * block_c + col0)
            for r0 in range(lane, n_part_rows, lanes * unroll):
                for u in cutlass.range_constexpr(unroll):  # independent loads in flight, then the adds
                    load_chunk(partial_ptr, Float32, Int64(r0 + u * lanes) * Int64(n_cols) + col,
                               r0 + u * lanes < n_part_rows, tile, part[None, u])
                for u in cutlass.range_constexpr(unroll):
                    acc.store(acc.load() + part[None, u].load())
        smem = cute.make_tensor(cute.arch.get_dyn_smem(Float32, alignment=16), cute.make_layout(lanes * block_c))
        for k in cutlass.range_constexpr(vec):
            smem[lane * block_c + col0 + k] = acc[k]
        cute.arch.sync_threads()
        out = cute.make_tensor(out_ptr, cute.make_layout(n_cols))
        for step in cutlass.range_constexpr((block_c + threads - 1) // threads):
            c = step * threads + tid
            if c < block_c and bid * block_c + c < n_cols:
                s = Float32(0.0)
                for k in cutlass.range_constexpr(lanes):
                    s = s + smem[k * block_c + c]
                out[bid * block_c + c] = s.to(out_t)

    @cute.jit
    def host(partial_ptr: cute.Pointer, out_ptr: cute.Pointer, n_part_rows: Int32, n_cols: Int32,
             grid_x: Int32, stream: cuda.CUstream):
        kernel(partial_ptr, out_ptr, n_part_rows, n_cols).launch(
            grid=[grid_x, 1, 1], block=[threads, 1, 1], smem=shared_bytes, stream=stream)

    return host, shared_bytes


KERNELS = {"norm_bwd_dwdb": build_norm_bwd_dwdb}
