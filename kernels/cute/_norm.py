"""The bodies of the CuTe DSL norm kernels (LayerNorm and RMSNorm, forward and input gradient) and the
helpers they need beyond kernels/cute/_rows.py: per-column vectors (weight, bias, the dweight / dbias
partial rows), loads kept in the stored dtype, per-row scalars (mean, rstd). layer_norm.py and
rms_norm.py wrap the bodies in kernels with their contracts' parameter lists (kernels/triton/
layer_norm.py, rms_norm.py); CENTERED selects LayerNorm (mean subtracted) over RMSNorm, as
kernels/triton/_norm_bwd.py does."""
import cutlass
import cutlass.cute as cute
from cutlass import Float32, Int64

from ._rows import RowTile

DTYPES = {"fp32": cutlass.Float32, "bf16": cutlass.BFloat16, "fp16": cutlass.Float16,
          "i64": cutlass.Int64, "i32": cutlass.Int32}


def dtype_of(spec, name):
    """The element type of pointer parameter `name` (e.g. "x_ptr")."""
    return DTYPES[spec.dtypes[name]]


def nbytes(dtype):
    return dtype.width // 8


# Note [Aligned pointers in the norm kernels]
# cute's pointer arithmetic with a runtime offset keeps only the element's alignment, so each access
# re-makes its pointer from the integer address with the alignment it is known to have. In the
# aligned variant every base pointer is 16-byte aligned and every row stride and n_cols a multiple of
# 16 elements, so a chunk of `vec` elements starting at a column that is a multiple of vec sits at a
# multiple of min(16, vec * element bytes) bytes, and autovec_copy turns it into vector accesses
# (ld.global.v4 / v2; a 32-byte fp32 chunk of a bf16 row tile is two v4). In the generic variant vec
# is 1 and the alignment the element's own. _rows.RowTile does the same for the row tensors; these
# helpers serve the column vectors, whose dtype may be wider than the rows' (fp32 weight, bf16 x).


class ChunkAccess:
    """Chunks of `vec` contiguous elements, aligned or not (Note [Aligned pointers in the norm kernels])."""

    def __init__(self, vec, aligned):
        self.vec = vec
        self.aligned = aligned

    def align(self, dtype):
        return min(16, self.vec * nbytes(dtype)) if self.aligned else nbytes(dtype)


def gmem_chunk(ptr, dtype, offset, vec, align):
    """A [vec] global tensor at element `offset` (Int64) of `ptr`, assumed `align`-byte aligned."""
    addr = ptr.toint() + offset * nbytes(dtype)
    return cute.make_tensor(cute.make_ptr(dtype, addr, cute.AddressSpace.gmem, assumed_align=align),
                            cute.make_layout(vec))


@cute.jit
def copy_if(ok, src, dst):
    if ok:
        cute.autovec_copy(src, dst)


def load_chunk(ptr, dtype, offset, ok, access, dst):
    """dst (rmem [vec] of dtype) = the chunk at element `offset` of ptr if `ok`, else zeros."""
    src = gmem_chunk(ptr, dtype, offset, access.vec, access.align(dtype))  # an address: reads nothing yet
    dst.fill(0)
    copy_if(ok, src, dst)


def store_chunk(src, ptr, dtype, offset, ok, access):
    """The chunk at element `offset` of ptr = src (rmem [vec] of dtype) if `ok`."""
    copy_if(ok, src, gmem_chunk(ptr, dtype, offset, access.vec, access.align(dtype)))


class NormConfig:
    """Compile-time description of one norm kernel specialization."""

    def __init__(self, spec, centered, has_weight, has_bias, x_name, w_name, persistent):
        c = spec.constants
        self.centered, self.has_weight, self.has_bias = centered, has_weight, has_bias
        self.rows, self.block, self.single = c["ROWS"], c["BLOCK"], bool(c["SINGLE"])
        self.x_t = dtype_of(spec, x_name)
        self.w_t = dtype_of(spec, w_name)  # P (the weight's dtype; with no weight, the launcher's stand-in)
        self.tile = RowTile(rows=self.rows, block=self.block, threads=spec.threads, elem_bytes=nbytes(self.x_t),
                            aligned=spec.aligned)
        t = self.tile
        self.access = ChunkAccess(t.vec, spec.aligned)
        self.threads = spec.threads
        # Shared memory: _rows' reduction buffer at offset 0, then (backward, several row slots per
        # pass) the [rows_per_pass, BLOCK] fp32 column sums of the partial rows.
        self.reduce_floats = t.smem_bytes // 4
        self.colsum = persistent and self.single and t.rows_per_pass > 1 and (has_weight or has_bias)
        colsum_floats = t.rows_per_pass * self.block if self.colsum else 0
        self.shared_bytes = 4 * (self.reduce_floats + colsum_floats)
        assert self.shared_bytes <= 48 * 1024, self.shared_bytes
        if persistent and not self.single:
            # the looped backward's read-modify-write of its partial rows needs each column owned by
            # one thread of one row slot
            assert t.rows_per_pass == 1 and t.rpt == 1, (t.rows_per_pass, t.rpt)


@cute.jit
def load_cols(cfg: cutlass.Constexpr, ptr, dtype: cutlass.Constexpr, n_cols, start):
    """rmem fp32 [cpt]: elements start + tile.col(c) of the vector at ptr (the same for every row slot
    of the thread), 0 past n_cols."""
    t = cfg.tile
    out = cute.make_rmem_tensor(t.cpt, Float32)
    raw = cute.make_rmem_tensor(t.vec, dtype)
    for k in cutlass.range_constexpr(t.chunks):
        col = start + t.col(k * t.vec)
        load_chunk(ptr, dtype, Int64(col), col < n_cols, cfg.access, raw)
        for v in cutlass.range_constexpr(t.vec):
            out[k * t.vec + v] = raw[v].to(Float32)
    return out


@cute.jit
def load_raw(cfg: cutlass.Constexpr, ptr, row0, n_rows, n_cols, stride, dst):
    """dst (rmem [rpt, cpt] of the row dtype) = the thread's elements of the tile at row0 as stored,
    0 outside the view (tile.load's mapping, without the conversion: the prefetched tile of the
    backward costs half the registers in bf16)."""
    t = cfg.tile
    raw = cute.make_rmem_tensor(t.vec, cfg.x_t)
    for r in cutlass.range_constexpr(t.rpt):
        row_ok = t.row_valid(r, row0, n_rows)
        row_off = Int64(row0 + t.row(r)) * stride
        for k in cutlass.range_constexpr(t.chunks):
            col = t.col(k * t.vec)
            load_chunk(ptr, cfg.x_t, row_off + Int64(col), row_ok & (col < n_cols), cfg.access, raw)
            for v in cutlass.range_constexpr(t.vec):
                dst[r, k * t.vec + v] = raw[v]


@cute.jit
def load_row_scalars(cfg: cutlass.Constexpr, ptr, row0, n_rows, dst):
    """dst (rmem fp32 [rpt]) = ptr[row] of the thread's row slots (contiguous fp32 [n_rows]), 0 past n_rows."""
    t = cfg.tile
    g = cute.make_tensor(ptr, cute.make_layout(n_rows))
    for r in cutlass.range_constexpr(t.rpt):
        dst[r] = Float32(0.0)
        if t.row_valid(r, row0, n_rows):
            dst[r] = g[row0 + t.row(r)]


@cute.jit
def store_row_scalars(cfg: cutlass.Constexpr, ptr, row0, n_rows, vals):
    """ptr[row] = vals[r] for the thread's valid row slots, written by the row's lane 0 only."""
    t = cfg.tile
    g = cute.make_tensor(ptr, cute.make_layout(n_rows))
    for r in cutlass.range_constexpr(t.rpt):
        if t.row_valid(r, row0, n_rows) & (t.col(0) == 0):
            g[row0 + t.row(r)] = vals[r]


def inv_sqrt(v):
    """1 / sqrt(v), rounded as Triton's 1.0 / tl.sqrt_rn."""
    return Float32(1.0) / cute.math.sqrt(v, fastmath=False)


@cute.jit
def norm_fwd_body(cfg: cutlass.Constexpr, x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, n_rows, n_cols,
                  x_stride, y_stride, eps):
    """y = (x - mean) * rstd * w + b (CENTERED) or x * rstd * w (RMSNorm; b_ptr / mean_ptr unused),
    rstd = 1 / sqrt(mean((x - mean)^2) + eps); mean (CENTERED) and rstd stored per row. Padding
    elements load as 0 and are masked out of the centered sums."""
    t = cfg.tile
    bidx, _, _ = cute.arch.block_idx()
    row0 = bidx * cfg.rows
    buf = t.reduce_buffer()
    fn = Float32(n_cols)
    mean = cute.make_rmem_tensor(t.rpt, Float32)
    mean.fill(0.0)
    sq = cute.make_rmem_tensor(t.rpt, Float32)
    sq.fill(0.0)
    if cutlass.const_expr(cfg.single):
        x = t.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0)
        if cutlass.const_expr(cfg.centered):
            mean = t.row_reduce(t.partial(x, "sum"), "sum", buf)
            for r in cutlass.range_constexpr(t.rpt):
                mean[r] = mean[r] / fn
        for r in cutlass.range_constexpr(t.rpt):
            for c in cutlass.range_constexpr(t.cpt):
                d = x[r, c]
                if cutlass.const_expr(cfg.centered):
                    d = Float32(0.0)
                    if t.col_valid(c, n_cols):
                        d = x[r, c] - mean[r]
                sq[r] = sq[r] + d * d
    else:
        if cutlass.const_expr(cfg.centered):
            for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
                x1 = t.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0, start)
                for r in cutlass.range_constexpr(t.rpt):
                    for c in cutlass.range_constexpr(t.cpt):
                        mean[r] = mean[r] + x1[r, c]
            t.row_reduce(mean, "sum", buf)
            for r in cutlass.range_constexpr(t.rpt):
                mean[r] = mean[r] / fn
        for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
            x2 = t.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0, start)
            for r in cutlass.range_constexpr(t.rpt):
                for c in cutlass.range_constexpr(t.cpt):
                    e = x2[r, c]
                    if cutlass.const_expr(cfg.centered):
                        e = Float32(0.0)
                        if t.col_valid(c, n_cols, start):
                            e = x2[r, c] - mean[r]
                    sq[r] = sq[r] + e * e
    t.row_reduce(sq, "sum", buf)
    rstd = cute.make_rmem_tensor(t.rpt, Float32)
    for r in cutlass.range_constexpr(t.rpt):
        rstd[r] = inv_sqrt(sq[r] / fn + eps)
    if cutlass.const_expr(cfg.centered):
        store_row_scalars(cfg, mean_ptr, row0, n_rows, mean)
    store_row_scalars(cfg, rstd_ptr, row0, n_rows, rstd)
    if cutlass.const_expr(cfg.single):
        w, b = load_wb(cfg, w_ptr, b_ptr, n_cols, 0)
        normalize_store(cfg, x, mean, rstd, w, b, y_ptr, row0, n_rows, n_cols, y_stride, 0)
    else:
        for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
            xs = t.load(x_ptr, row0, n_rows, n_cols, x_stride, 0.0, start)
            ws, bs = load_wb(cfg, w_ptr, b_ptr, n_cols, start)
            normalize_store(cfg, xs, mean, rstd, ws, bs, y_ptr, row0, n_rows, n_cols, y_stride, start)


@cute.jit
def load_wb(cfg: cutlass.Constexpr, w_ptr, b_ptr, n_cols, start):
    """Weight and bias (rmem fp32 [cpt], as load_cols) of the columns start ..., those the kernel has."""
    t = cfg.tile
    w = cute.make_rmem_tensor(t.cpt, Float32)
    b = cute.make_rmem_tensor(t.cpt, Float32)
    if cutlass.const_expr(cfg.has_weight):
        w = load_cols(cfg, w_ptr, cfg.w_t, n_cols, start)
    if cutlass.const_expr(cfg.has_bias):
        b = load_cols(cfg, b_ptr, cfg.w_t, n_cols, start)
    return w, b


@cute.jit
def normalize_store(cfg: cutlass.Constexpr, x, mean, rstd, w, b, y_ptr, row0, n_rows, n_cols, y_stride, start):
    """y = (x - mean) * rstd (* w) (+ b) over the columns start ... start + BLOCK, stored (x is reused)."""
    t = cfg.tile
    for r in cutlass.range_constexpr(t.rpt):
        for c in cutlass.range_constexpr(t.cpt):
            y = (x[r, c] - mean[r]) * rstd[r]
            if cutlass.const_expr(cfg.has_weight):
                y = y * w[c]
            if cutlass.const_expr(cfg.has_bias):
                y = y + b[c]
            x[r, c] = y
    t.store(y_ptr, x, row0, n_rows, n_cols, y_stride, start)


@cute.jit
def to_xhat(cfg: cutlass.Constexpr, x, xhat, mean, rstd, n_cols, start):
    """xhat (rmem fp32 [rpt, cpt], may be x itself) = (x - mean) * rstd, 0 on padding columns
    (CENTERED; without centering padding x is 0 already, and rows past n_rows have x = 0, rstd = 0)."""
    t = cfg.tile
    for r in cutlass.range_constexpr(t.rpt):
        for c in cutlass.range_constexpr(t.cpt):
            v = x[r, c].to(Float32)
            if cutlass.const_expr(cfg.centered):
                xh = Float32(0.0)
                if t.col_valid(c, n_cols, start):
                    xh = (v - mean[r]) * rstd[r]
                xhat[r, c] = xh
            else:
                xhat[r, c] = v * rstd[r]


@cute.jit
def add_dots(cfg: cutlass.Constexpr, xhat, dy, w, c1, c2):
    """c1[r] += sum(xhat * w * dy), c2[r] += sum(w * dy) over the thread's elements of row slot r."""
    t = cfg.tile
    for r in cutlass.range_constexpr(t.rpt):
        a1 = c1[r]
        a2 = c2[r]
        for c in cutlass.range_constexpr(t.cpt):
            wdy = dy[r, c].to(Float32)
            if cutlass.const_expr(cfg.has_weight):
                wdy = wdy * w[c]
            a1 = a1 + xhat[r, c] * wdy
            a2 = a2 + wdy
        c1[r] = a1
        c2[r] = a2


@cute.jit
def dx_in_place(cfg: cutlass.Constexpr, xhat, dy, w, rstd, c1, c2, dw, db):
    """dw[c] += dy * xhat and db[c] += dy over the row slots, then xhat <- dx = (w*dy - (xhat*c1 + c2)) * rstd
    (c1, c2 the row means; c2 only when CENTERED)."""
    t = cfg.tile
    for r in cutlass.range_constexpr(t.rpt):
        for c in cutlass.range_constexpr(t.cpt):
            g = dy[r, c].to(Float32)
            xh = xhat[r, c]
            dw[c] = dw[c] + g * xh
            if cutlass.const_expr(cfg.has_bias):
                db[c] = db[c] + g
            wdy = g
            if cutlass.const_expr(cfg.has_weight):
                wdy = g * w[c]
            if cutlass.const_expr(cfg.centered):
                xhat[r, c] = (wdy - (xh * c1[r] + c2[r])) * rstd[r]
            else:
                xhat[r, c] = (wdy - xh * c1[r]) * rstd[r]


@cute.jit
def row_means(cfg: cutlass.Constexpr, c1, c2, n_cols, buf):
    """Row sums of c1 (and c2 when CENTERED) over the whole rows, divided by n_cols, in place."""
    t = cfg.tile
    fn = Float32(n_cols)
    t.row_reduce(c1, "sum", buf)
    if cutlass.const_expr(cfg.centered):
        t.row_reduce(c2, "sum", buf)
    for r in cutlass.range_constexpr(t.rpt):
        c1[r] = c1[r] / fn
        c2[r] = c2[r] / fn


@cute.jit
def write_partial(cfg: cutlass.Constexpr, ptr, acc, pid, n_cols):
    """Row pid of the fp32 partial buffer at ptr ([n_programs, n_cols]) = the column sums of this
    program's rows, acc (rmem [cpt]) being the thread's share (its row slots' sum). With several row
    slots per pass the slots' shares meet in shared memory and are added in slot order."""
    t = cfg.tile
    base = Int64(pid) * Int64(n_cols)
    if cutlass.const_expr(not cfg.colsum):  # one row slot per pass: the thread owns its columns
        chunk = cute.make_rmem_tensor(t.vec, Float32)
        for k in cutlass.range_constexpr(t.chunks):
            col = t.col(k * t.vec)
            for v in cutlass.range_constexpr(t.vec):
                chunk[v] = acc[k * t.vec + v]
            store_chunk(chunk, ptr, Float32, base + Int64(col), col < n_cols, cfg.access)
    else:
        tidx, _, _ = cute.arch.thread_idx()
        base_smem = cute.arch.get_dyn_smem(Float32, alignment=16) + cfg.reduce_floats
        sm = cute.make_tensor(base_smem, cute.make_layout(t.rows_per_pass * cfg.block))
        slot = tidx // t.tpr
        cute.arch.barrier()  # an earlier write_partial's readers are done with sm
        for c in cutlass.range_constexpr(t.cpt):
            sm[slot * cfg.block + t.col(c)] = acc[c]
        cute.arch.barrier()
        for step in cutlass.range_constexpr(cdiv(cfg.block, cfg.threads)):
            col = step * cfg.threads + tidx
            if (col < cfg.block) & (col < n_cols):
                s = sm[col]
                for j in cutlass.range_constexpr(1, t.rows_per_pass):
                    s = s + sm[j * cfg.block + col]
                gmem_chunk(ptr, Float32, base + Int64(col), 1, 4)[0] = s


@cute.jit
def norm_bwd_body(cfg: cutlass.Constexpr, x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr,
                  n_rows, n_cols, x_stride, dy_stride, dx_stride, n_programs):
    """dx of every row tile pid, pid + n_programs, ... and this program's rows of the dweight / dbias
    partial buffers (Note [Deterministic parameter gradients] in kernels/triton/layer_norm.py); a
    program with no tile writes zero rows. SINGLE loads one tile ahead (Note [Norm backward prefetch]
    in kernels/triton/_norm_bwd.py)."""
    t = cfg.tile
    pid, _, _ = cute.arch.block_idx()
    buf = t.reduce_buffer()
    n_tiles = (n_rows + (cfg.rows - 1)) // cfg.rows
    stride = n_programs * cfg.rows  # rows between a program's consecutive tiles
    mean = cute.make_rmem_tensor(t.rpt, Float32)
    rstd = cute.make_rmem_tensor(t.rpt, Float32)
    c1 = cute.make_rmem_tensor(t.rpt, Float32)
    c2 = cute.make_rmem_tensor(t.rpt, Float32)
    dw = cute.make_rmem_tensor(t.cpt, Float32)
    db = cute.make_rmem_tensor(t.cpt, Float32)
    dw.fill(0.0)
    db.fill(0.0)
    if cutlass.const_expr(cfg.single):
        w = cute.make_rmem_tensor(t.cpt, Float32)
        if cutlass.const_expr(cfg.has_weight):
            w = load_cols(cfg, w_ptr, cfg.w_t, n_cols, 0)
        lay = cute.make_layout((t.rpt, t.cpt), stride=(t.cpt, 1))
        x_next = cute.make_rmem_tensor(lay, cfg.x_t)
        dy_next = cute.make_rmem_tensor(lay, cfg.x_t)
        mean_next = cute.make_rmem_tensor(t.rpt, Float32)
        rstd_next = cute.make_rmem_tensor(t.rpt, Float32)
        mean_next.fill(0.0)
        first = pid * cfg.rows
        load_raw(cfg, x_ptr, first, n_rows, n_cols, x_stride, x_next)
        load_raw(cfg, dy_ptr, first, n_rows, n_cols, dy_stride, dy_next)
        load_row_scalars(cfg, rstd_ptr, first, n_rows, rstd_next)
        if cutlass.const_expr(cfg.centered):
            load_row_scalars(cfg, mean_ptr, first, n_rows, mean_next)
        for tile_idx in cutlass.range(pid, n_tiles, n_programs, unroll=1):
            t0 = tile_idx * cfg.rows
            x_raw = cute.make_rmem_tensor(lay, cfg.x_t)
            dy = cute.make_rmem_tensor(lay, cfg.x_t)  # converted where used: half the registers in bf16
            for r in cutlass.range_constexpr(t.rpt):
                mean[r] = mean_next[r]
                rstd[r] = rstd_next[r]
                for c in cutlass.range_constexpr(t.cpt):
                    x_raw[r, c] = x_next[r, c]
                    dy[r, c] = dy_next[r, c]
            # the next tile's loads go out before this tile's reductions (past n_rows they read nothing)
            load_raw(cfg, x_ptr, t0 + stride, n_rows, n_cols, x_stride, x_next)
            load_raw(cfg, dy_ptr, t0 + stride, n_rows, n_cols, dy_stride, dy_next)
            load_row_scalars(cfg, rstd_ptr, t0 + stride, n_rows, rstd_next)
            if cutlass.const_expr(cfg.centered):
                load_row_scalars(cfg, mean_ptr, t0 + stride, n_rows, mean_next)
            x = cute.make_rmem_tensor(lay, Float32)
            to_xhat(cfg, x_raw, x, mean, rstd, n_cols, 0)
            c1.fill(0.0)
            c2.fill(0.0)
            add_dots(cfg, x, dy, w, c1, c2)
            row_means(cfg, c1, c2, n_cols, buf)
            dx_in_place(cfg, x, dy, w, rstd, c1, c2, dw, db)
            t.store(dx_ptr, x, t0, n_rows, n_cols, dx_stride)
        if cutlass.const_expr(cfg.has_weight):
            write_partial(cfg, dw_ptr, dw, pid, n_cols)
        if cutlass.const_expr(cfg.has_bias):
            write_partial(cfg, db_ptr, db, pid, n_cols)
    else:
        # ROWS = 1 and one row slot per pass: each column of the partial rows belongs to one thread,
        # which zeroes it first and then adds each tile's share (read-modify-write, no other thread).
        base = Int64(pid) * Int64(n_cols)
        zero = cute.make_rmem_tensor(t.vec, Float32)
        zero.fill(0.0)
        for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
            for k in cutlass.range_constexpr(t.chunks):
                col = start + t.col(k * t.vec)
                if cutlass.const_expr(cfg.has_weight):
                    store_chunk(zero, dw_ptr, Float32, base + Int64(col), col < n_cols, cfg.access)
                if cutlass.const_expr(cfg.has_bias):
                    store_chunk(zero, db_ptr, Float32, base + Int64(col), col < n_cols, cfg.access)
        for tile_idx in cutlass.range(pid, n_tiles, n_programs, unroll=1):
            r0 = tile_idx * cfg.rows
            load_row_scalars(cfg, rstd_ptr, r0, n_rows, rstd)
            mean.fill(0.0)
            if cutlass.const_expr(cfg.centered):
                load_row_scalars(cfg, mean_ptr, r0, n_rows, mean)
            c1.fill(0.0)
            c2.fill(0.0)
            for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
                xa = t.load(x_ptr, r0, n_rows, n_cols, x_stride, 0.0, start)
                dya = t.load(dy_ptr, r0, n_rows, n_cols, dy_stride, 0.0, start)
                wa = cute.make_rmem_tensor(t.cpt, Float32)
                if cutlass.const_expr(cfg.has_weight):
                    wa = load_cols(cfg, w_ptr, cfg.w_t, n_cols, start)
                to_xhat(cfg, xa, xa, mean, rstd, n_cols, start)
                add_dots(cfg, xa, dya, wa, c1, c2)
            row_means(cfg, c1, c2, n_cols, buf)
            for start in cutlass.range(0, n_cols, cfg.block, unroll=1):
                xb = t.load(x_ptr, r0, n_rows, n_cols, x_stride, 0.0, start)
                dyb = t.load(dy_ptr, r0, n_rows, n_cols, dy_stride, 0.0, start)
                wb = cute.make_rmem_tensor(t.cpt, Float32)
                if cutlass.const_expr(cfg.has_weight):
                    wb = load_cols(cfg, w_ptr, cfg.w_t, n_cols, start)
                to_xhat(cfg, xb, xb, mean, rstd, n_cols, start)
                dw.fill(0.0)
                db.fill(0.0)
                dx_in_place(cfg, xb, dyb, wb, rstd, c1, c2, dw, db)
                t.store(dx_ptr, xb, r0, n_rows, n_cols, dx_stride, start)
                if cutlass.const_expr(cfg.has_weight):
                    add_to_partial(cfg, dw_ptr, dw, base, n_cols, start)
                if cutlass.const_expr(cfg.has_bias):
                    add_to_partial(cfg, db_ptr, db, base, n_cols, start)


@cute.jit
def add_to_partial(cfg: cutlass.Constexpr, ptr, acc, base, n_cols, start):
    """The thread's columns start + tile.col(c) of the partial row at element `base` += acc[c]."""
    t = cfg.tile
    chunk = cute.make_rmem_tensor(t.vec, Float32)
    for k in cutlass.range_constexpr(t.chunks):
        col = start + t.col(k * t.vec)
        ok = col < n_cols
        load_chunk(ptr, Float32, base + Int64(col), ok, cfg.access, chunk)
        for v in cutlass.range_constexpr(t.vec):
            chunk[v] = chunk[v] + acc[k * t.vec + v]
        store_chunk(chunk, ptr, Float32, base + Int64(col), ok, cfg.access)


def cdiv(a, b):
    return (a + b - 1) // b
