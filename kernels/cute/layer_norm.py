"""LayerNorm forward and input gradient as CuTe DSL kernels with the launch contracts of
kernels/triton/layer_norm.py (parameters in order, constexprs HAS_WEIGHT / HAS_BIAS / ROWS / BLOCK /
SINGLE, grids, 32 * num_warps threads); the bodies are kernels/cute/_norm.py's, shared with RMSNorm.
The dweight / dbias column sums are norm_bwd_dwdb (kernels/cute/norm_columns.py)."""
import cuda.bindings.driver as cuda
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

from ._norm import NormConfig, norm_bwd_body, norm_fwd_body
from .norm_columns import build_norm_bwd_dwdb


def _config(spec, persistent):
    c = spec.constants
    return NormConfig(spec, centered=True, has_weight=bool(c["HAS_WEIGHT"]), has_bias=bool(c["HAS_BIAS"]),
                      x_name="x_ptr", w_name="w_ptr", persistent=persistent)


def build_fwd(spec):
    cfg = _config(spec, persistent=False)

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, w_ptr: cute.Pointer, b_ptr: cute.Pointer, y_ptr: cute.Pointer,
               mean_ptr: cute.Pointer, rstd_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64,
               y_stride: Int64, eps: Float32):
        norm_fwd_body(cfg, x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps)

    @cute.jit
    def host(x_ptr: cute.Pointer, w_ptr: cute.Pointer, b_ptr: cute.Pointer, y_ptr: cute.Pointer,
             mean_ptr: cute.Pointer, rstd_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64,
             y_stride: Int64, eps: Float32, grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps).launch(
            grid=[grid_x, 1, 1], block=[cfg.threads, 1, 1], smem=cfg.shared_bytes, stream=stream)

    return host, cfg.shared_bytes


def build_bwd(spec):
    cfg = _config(spec, persistent=True)

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, w_ptr: cute.Pointer, dy_ptr: cute.Pointer, mean_ptr: cute.Pointer,
               rstd_ptr: cute.Pointer, dx_ptr: cute.Pointer, dw_ptr: cute.Pointer, db_ptr: cute.Pointer,
               n_rows: Int32, n_cols: Int32, x_stride: Int64, dy_stride: Int64, dx_stride: Int64,
               n_programs: Int32):
        norm_bwd_body(cfg, x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols,
                      x_stride, dy_stride, dx_stride, n_programs)

    @cute.jit
    def host(x_ptr: cute.Pointer, w_ptr: cute.Pointer, dy_ptr: cute.Pointer, mean_ptr: cute.Pointer,
             rstd_ptr: cute.Pointer, dx_ptr: cute.Pointer, dw_ptr: cute.Pointer, db_ptr: cute.Pointer,
             n_rows: Int32, n_cols: Int32, x_stride: Int64, dy_stride: Int64, dx_stride: Int64,
             n_programs: Int32, grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols, x_stride,
               dy_stride, dx_stride, n_programs).launch(grid=[grid_x, 1, 1], block=[cfg.threads, 1, 1],
                                                        smem=cfg.shared_bytes, stream=stream)

    return host, cfg.shared_bytes


KERNELS = {
    "layer_norm_fwd": build_fwd,
    "layer_norm_bwd_dx": build_bwd,
    "norm_bwd_dwdb": build_norm_bwd_dwdb,
}
