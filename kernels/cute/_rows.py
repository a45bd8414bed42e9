"""Row-tile helpers shared by the CuTe DSL row kernels (softmax, cross_entropy, the norms).

A row kernel's CTA owns a [ROWS, BLOCK] tile (rows block_idx * ROWS ..., columns start ... start + BLOCK)
and holds it in registers as float32, one rmem tensor [rpt, cpt] per thread. API (static numbers are
fixed in Python at build time; the @cute.jit methods are traced inline into the calling kernel):

    tile = RowTile(rows=ROWS, block=BLOCK, threads=spec.threads, elem_bytes=..., aligned=spec.aligned)
        elem_bytes: the widest element (bytes) of the row tensors loaded / stored with this tile; the
        vector width is 16 // elem_bytes when aligned, else 1 (element-wise accesses).
    tile.vec, tile.tpr, tile.rpt, tile.cpt   vector width, threads per row, row slots and columns per thread
    tile.smem_bytes                          dynamic shared memory row_reduce needs (0: a row stays in a warp)

  inside a @cute.kernel (row0 = block_idx * ROWS, Int32; stride Int64 in elements; start Int32):
    buf = tile.reduce_buffer(offset=0)       smem for row_reduce (None if smem_bytes == 0), at byte
                                             `offset` (a multiple of 16) of dynamic smem
    x = tile.load(ptr, row0, n_rows, n_cols, stride, fill, start=0)
        rmem fp32 [rpt, cpt]: the thread's elements, `fill` where the row is >= n_rows or the column
        is >= n_cols (those are never read)
    tile.store(ptr, x, row0, n_rows, n_cols, stride, start=0)     same elements, in ptr's dtype, predicated
    p = tile.partial(x, "sum" | "max")     rmem fp32 [rpt]: per-thread reduction over its cpt columns
    tile.row_reduce(p, "sum" | "max", buf) in place: every thread of a row ends with the whole row's
                                           result (bit-identical across the row's threads); contains
                                           barriers, so call it from every thread (never under a branch)
    tile.row(r) -> Int32    tile-local row (0 .. ROWS-1 when valid) of the thread's row slot r
    tile.col(c) -> Int32    column (relative to start) of the thread's element c
    tile.row_valid(r, row0, n_rows) -> Boolean
    tile.col_valid(c, n_cols, start=0) -> Boolean  (for masking reductions of computed values)

  per-row scalars (module functions; index in elements, Int64):
    load_scalar(ptr, index) -> ptr's dtype      store_scalar(ptr, index, value)  (value converted)

Mapping: thread t has slot t // tpr and lane t % tpr. Row slot r is tile row r * (threads // tpr) +
slot; element c = k * vec + v is column (k * tpr + lane) * vec + v: each of the row's tpr threads
reads vec contiguous elements per access, so a warp's access is contiguous per row (coalesced).
tpr = min(BLOCK / vec, threads, max(threads / ROWS, 64 bytes / (vec * elem_bytes))): every thread busy,
and as few threads per row (shuffle steps) as keep each row access >= 64 contiguous bytes.

DSL notes for callers: pass the tile to @cute.jit helpers as a `cutlass.Constexpr` argument; a dynamic
loop (cutlass.range) must not rebind a name the enclosing function binds elsewhere (put the loop body
in a @cute.jit helper that writes into rmem tensors passed in, as softmax.py does); load() returns a
fresh rmem tensor the caller may overwrite in place and pass to store().
"""
from dataclasses import dataclass

import cutlass
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

# Each row access of a warp covers at least this many contiguous bytes (two 32-byte sectors) when the
# row is that long: fewer threads per row means fewer shuffle steps per reduction, and 64 bytes keeps
# the global accesses sector-efficient.
MIN_ROW_BYTES = 64


def _pow2(n):
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class RowTile:
    # Frozen: the DSL then treats a tile used inside a dynamic loop or branch as read-only, not as
    # loop-carried state (which a Python object cannot be).
    rows: int
    block: int
    threads: int
    elem_bytes: int
    aligned: bool

    def __post_init__(self):
        rows, block, threads, elem_bytes = self.rows, self.block, self.threads, self.elem_bytes
        assert _pow2(rows) and _pow2(block) and _pow2(threads) and threads >= 32, (rows, block, threads)
        assert elem_bytes in (1, 2, 4, 8)
        vec = min(16 // elem_bytes, block) if self.aligned else 1
        min_tpr = max(1, MIN_ROW_BYTES // (vec * elem_bytes))
        tpr = min(block // vec, threads, max(threads // rows, min_tpr))
        rows_per_pass = threads // tpr
        chunks = block // (tpr * vec)
        wpr = max(1, tpr // 32)
        rpt = max(1, rows // rows_per_pass)
        derived = dict(
            warps=threads // 32,
            vec=vec,                        # elements per access
            tpr=tpr,                        # threads per row
            rows_per_pass=rows_per_pass,
            rpt=rpt,                        # row slots per thread
            chunks=chunks,                  # vectors per row slot
            cpt=chunks * vec,               # columns per row slot
            # slots past ROWS exist only when the tile has fewer rows than one pass of threads covers
            idle_slots=rows_per_pass > rows,
            wpr=wpr,                        # warps per row
            smem_bytes=rpt * (threads // 32) * 4 if wpr > 1 else 0,
        )
        for k, v in derived.items():
            object.__setattr__(self, k, v)

    # ---- index helpers -------------------------------------------------------------------------
    @cute.jit
    def row(self, r: cutlass.Constexpr):
        tidx, _, _ = cute.arch.thread_idx()
        return Int32(r * self.rows_per_pass) + tidx // self.tpr

    @cute.jit
    def col(self, c: cutlass.Constexpr):
        tidx, _, _ = cute.arch.thread_idx()
        k, v = c // self.vec, c % self.vec
        return (Int32(k * self.tpr) + tidx % self.tpr) * self.vec + v

    @cute.jit
    def row_valid(self, r: cutlass.Constexpr, row0, n_rows):
        row = self.row(r)
        ok = row0 + row < n_rows
        if cutlass.const_expr(self.idle_slots):
            ok = ok & (row < self.rows)
        return ok

    @cute.jit
    def col_valid(self, c: cutlass.Constexpr, n_cols, start=0):
        return start + self.col(c) < n_cols

    # ---- global memory -------------------------------------------------------------------------
    def _atom(self, dtype):
        return cute.make_copy_atom(cute.nvgpu.CopyUniversalOp(), dtype,
                                   num_bits_per_copy=self.vec * dtype.width)

    @cute.jit
    def _vec_tensor(self, ptr: cute.Pointer, elem_off):
        """The vec elements at ptr + elem_off (Int64), typed aligned to vec * elem bytes: the aligned
        contract (16-byte pointers, strides and n_cols multiples of 16) makes every vector start there."""
        nbytes = ptr.dtype.width // 8
        addr = ptr.toint() + elem_off * nbytes
        p = cute.make_ptr(ptr.dtype, addr, cute.AddressSpace.gmem, assumed_align=self.vec * nbytes)
        return cute.make_tensor(p, cute.make_layout(self.vec))

    @cute.jit
    def load(self, ptr: cute.Pointer, row0, n_rows, n_cols, stride, fill: cutlass.Constexpr, start=0):
        dtype = ptr.dtype
        atom = self._atom(dtype)
        out = cute.make_rmem_tensor(cute.make_layout((self.rpt, self.cpt), stride=(self.cpt, 1)), Float32)
        for r in cutlass.range_constexpr(self.rpt):
            row_ok = self.row_valid(r, row0, n_rows)
            row_off = Int64(row0 + self.row(r)) * stride
            for k in cutlass.range_constexpr(self.chunks):
                col = start + self.col(k * self.vec)
                for v in cutlass.range_constexpr(self.vec):
                    out[r, k * self.vec + v] = Float32(fill)
                if row_ok & (col < n_cols):
                    raw = cute.make_rmem_tensor(self.vec, dtype)
                    cute.copy(atom, self._vec_tensor(ptr, row_off + Int64(col)), raw)
                    for v in cutlass.range_constexpr(self.vec):
                        out[r, k * self.vec + v] = raw[v].to(Float32)
        return out

    @cute.jit
    def store(self, ptr: cute.Pointer, x: cute.Tensor, row0, n_rows, n_cols, stride, start=0):
        dtype = ptr.dtype
        atom = self._atom(dtype)
        for r in cutlass.range_constexpr(self.rpt):
            row_ok = self.row_valid(r, row0, n_rows)
            row_off = Int64(row0 + self.row(r)) * stride
            for k in cutlass.range_constexpr(self.chunks):
                col = start + self.col(k * self.vec)
                if row_ok & (col < n_cols):
                    raw = cute.make_rmem_tensor(self.vec, dtype)
                    for v in cutlass.range_constexpr(self.vec):
                        raw[v] = x[r, k * self.vec + v].to(dtype)
                    cute.copy(atom, raw, self._vec_tensor(ptr, row_off + Int64(col)))

    # ---- reductions ----------------------------------------------------------------------------
    @staticmethod
    def _op(op):
        if op == "sum":
            return lambda a, b: a + b
        assert op == "max", op
        return lambda a, b: cute.arch.fmax(a, b)

    @cute.jit
    def partial(self, x: cute.Tensor, op: cutlass.Constexpr):
        fn = RowTile._op(op)
        out = cute.make_rmem_tensor(self.rpt, Float32)
        for r in cutlass.range_constexpr(self.rpt):
            acc = x[r, 0]
            for c in cutlass.range_constexpr(1, self.cpt):
                acc = fn(acc, x[r, c])
            out[r] = acc
        return out

    @cute.jit
    def reduce_buffer(self, offset: cutlass.Constexpr = 0):
        if cutlass.const_expr(self.smem_bytes == 0):
            return None
        base = cute.arch.get_dyn_smem(Float32, alignment=16) + offset // 4
        return cute.make_tensor(base, cute.make_layout((self.rpt, self.warps), stride=(self.warps, 1)))

    @cute.jit
    def row_reduce(self, vals: cute.Tensor, op: cutlass.Constexpr, buf):
        """Butterfly shuffles within the row's lanes (a row's tpr threads are consecutive lanes, or
        whole consecutive warps); when a row spans warps, lane 0 of each warp posts its warp's result
        to smem and every thread combines its row's wpr entries in the same order, so all threads of
        the row hold the same bits. The trailing barrier lets the next call reuse the buffer."""
        fn = RowTile._op(op)
        for r in cutlass.range_constexpr(self.rpt):
            vals[r] = cute.arch.warp_reduction(vals[r], fn, threads_in_group=min(self.tpr, 32))
        if cutlass.const_expr(self.wpr > 1):
            warp = cute.arch.warp_idx()
            if cute.arch.lane_idx() == 0:
                for r in cutlass.range_constexpr(self.rpt):
                    buf[r, warp] = vals[r]
            cute.arch.barrier()
            first = (warp // self.wpr) * self.wpr
            for r in cutlass.range_constexpr(self.rpt):
                acc = buf[r, first]
                for j in cutlass.range_constexpr(1, self.wpr):
                    acc = fn(acc, buf[r, first + j])
                vals[r] = acc
            cute.arch.barrier()
        return vals


@cute.jit
def _scalar_tensor(ptr: cute.Pointer, index):
    nbytes = ptr.dtype.width // 8
    p = cute.make_ptr(ptr.dtype, ptr.toint() + Int64(index) * nbytes, cute.AddressSpace.gmem, assumed_align=nbytes)
    return cute.make_tensor(p, cute.make_layout(1))


@cute.jit
def load_scalar(ptr: cute.Pointer, index):
    """ptr[index] (index in elements, int64 arithmetic), in ptr's dtype."""
    return _scalar_tensor(ptr, index)[0]


@cute.jit
def store_scalar(ptr: cute.Pointer, index, value):
    """ptr[index] = value, converted to ptr's dtype."""
    t = _scalar_tensor(ptr, index)
    t[0] = value.to(ptr.dtype)


DTYPES = {"fp32": cutlass.Float32, "bf16": cutlass.BFloat16, "fp16": cutlass.Float16,
          "i64": cutlass.Int64, "i32": cutlass.Int32}


def elem_bytes(name):
    """Bytes of one element of spec.dtypes' type name ("fp32", "bf16", ...)."""
    return DTYPES[name].width // 8
