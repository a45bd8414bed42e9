"""RMSNorm forward and input gradient as CuTe DSL kernels with the launch contracts of
kernels/triton/rms_norm.py (parameters in order, constexprs HAS_WEIGHT / ROWS / BLOCK / SINGLE, grids,
32 * num_warps threads); the bodies are kernels/cute/_norm.py's, shared with LayerNorm. The dweight
column sums use norm_bwd_dwdb (kernels/cute/norm_columns.py), listed here too as the family launches it."""
import cuda.bindings.driver as cuda
import cutlass.cute as cute
from cutlass import Float32, Int32, Int64

from ._norm import NormConfig, norm_bwd_body, norm_fwd_body
from .norm_columns import build_norm_bwd_dwdb


def build_fwd(spec):
    cfg = NormConfig(spec, centered=False, has_weight=bool(spec.constants["HAS_WEIGHT"]), has_bias=False,
                     x_name="x_ptr", w_name="w_ptr", persistent=False)

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, w_ptr: cute.Pointer, y_ptr: cute.Pointer, rstd_ptr: cute.Pointer,
               n_rows: Int32, n_cols: Int32, x_stride: Int64, y_stride: Int64, eps: Float32):
        # no bias and no mean: w_ptr and rstd_ptr stand in for them, never touched
        norm_fwd_body(cfg, x_ptr, w_ptr, w_ptr, y_ptr, rstd_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps)

    @cute.jit
    def host(x_ptr: cute.Pointer, w_ptr: cute.Pointer, y_ptr: cute.Pointer, rstd_ptr: cute.Pointer,
             n_rows: Int32, n_cols: Int32, x_stride: Int64, y_stride: Int64, eps: Float32,
             grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, w_ptr, y_ptr, rstd_ptr, n_rows, n_cols, x_stride, y_stride, eps).launch(
            grid=[grid_x, 1, 1], block=[cfg.threads, 1, 1], smem=cfg.shared_bytes, stream=stream)

    return host, cfg.shared_bytes


def build_bwd(spec):
    cfg = NormConfig(spec, centered=False, has_weight=bool(spec.constants["HAS_WEIGHT"]), has_bias=False,
                     x_name="x_ptr", w_name="w_ptr", persistent=True)

    @cute.kernel
    def kernel(x_ptr: cute.Pointer, w_ptr: cute.Pointer, dy_ptr: cute.Pointer, rstd_ptr: cute.Pointer,
               dx_ptr: cute.Pointer, dw_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64,
               dy_stride: Int64, dx_stride: Int64, n_programs: Int32):
        # no mean and no dbias: rstd_ptr and dw_ptr stand in for them, never touched
        norm_bwd_body(cfg, x_ptr, w_ptr, dy_ptr, rstd_ptr, rstd_ptr, dx_ptr, dw_ptr, dw_ptr, n_rows, n_cols,
                      x_stride, dy_stride, dx_stride, n_programs)

    @cute.jit
    def host(x_ptr: cute.Pointer, w_ptr: cute.Pointer, dy_ptr: cute.Pointer, rstd_ptr: cute.Pointer,
             dx_ptr: cute.Pointer, dw_ptr: cute.Pointer, n_rows: Int32, n_cols: Int32, x_stride: Int64,
             dy_stride: Int64, dx_stride: Int64, n_programs: Int32, grid_x: Int32, stream: cuda.CUstream):
        kernel(x_ptr, w_ptr, dy_ptr, rstd_ptr, dx_ptr, dw_ptr, n_rows, n_cols, x_stride, dy_stride, dx_stride,
               n_programs).launch(grid=[grid_x, 1, 1], block=[cfg.threads, 1, 1], smem=cfg.shared_bytes,
                                  stream=stream)

    return host, cfg.shared_bytes


KERNELS = {
    "rms_norm_fwd": build_fwd,
    "rms_norm_bwd_dx": build_bwd,
    "norm_bwd_dwdb": build_norm_bwd_dwdb,
}
