// A build whose CMake did not find cuBLAS has no CUDA matmul kernel (blas_*.cu are left out,
// Note [CUDA build layout]); matmul on CUDA then says why instead of the generic "no kernel".
#if !VT_HAVE_CUBLAS
#include "ops/matmul_geometry.h"
#include "ops/ops.h"

namespace vt::cuda_kernels {
namespace {

Tensor matmul_without_cublas(const Tensor& a, const Tensor& b) {
  matmul::plan(a, b);  // shape, dtype and device errors first, as with cuBLAS
  VT_CHECK_KIND(ErrorKind::NotImplemented, false,
                "matmul on CUDA needs cuBLAS, which was not found when this vibetensor was built; install the CUDA "
                "toolkit's cuBLAS or `pip install nvidia-cublas` (or set VT_CUBLAS_ROOT) and rebuild");
  return {};
}

}  // namespace

VT_REGISTER_KERNEL("vt::matmul", CUDA, matmul_without_cublas);

}  // namespace vt::cuda_kernels
#endif
