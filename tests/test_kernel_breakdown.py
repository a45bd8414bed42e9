"""The kernel-family classifier and name shortening of benchmarks/kernel_breakdown.py (the GPU part
runs on a GPU machine only)."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def kb():
    spec = importlib.util.spec_from_file_location("kernel_breakdown", os.path.join(ROOT, "benchmarks", "kernel_breakdown.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, fam", [
    # PyTorch / cuBLAS / flash names as CUPTI reports them
    ("sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas", "gemm"),
    ("nvjet_tst_128x64_64x8_1x2_h_bz_coopA_NNT", "gemm"),
    ("void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<32, 128, 128, 4, false, false, float>>(Flash_fwd_params)", "attention"),
    ("void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)", "softmax"),
    ("void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<float, float, false>(int, float, float const*, float const*, float const*, float*, float*, float*)", "norm"),
    ("void at::native::(anonymous namespace)::nll_loss_forward_reduce_cuda_kernel_2d<float, float, long>(float*, float*, float const*, long const*, float const*, bool, long, long, long, long)", "cross_entropy/nll"),
    ("void at::native::(anonymous namespace)::indexSelectLargeIndex<float, long, unsigned int, 2, 2, -2, true>(...)", "embedding"),
    ("void at::native::(anonymous namespace)::multi_tensor_apply_kernel<at::native::(anonymous namespace)::TensorListMetadata<4>, at::native::(anonymous namespace)::FusedAdamMathFunctor<float, 4>>(...)", "optimizer"),
    ("void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::func_wrapper_t<float, at::native::sum_functor<float, float, float>::operator()>, unsigned int, float, 4>>(...)", "reduction"),
    ("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>>(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)", "elementwise"),
    # vibetensor's own kernels (csrc/ops/cuda)
    ("void vt::cuda_kernels::norm_forward_kernel<float>(...)", "norm"),
    ("void vt::cuda_kernels::softmax_rows_kernel<float, false>(...)", "softmax"),
    ("void vt::cuda_kernels::nll_loss_reduce_kernel<float>(...)", "cross_entropy/nll"),
    ("void vt::cuda_kernels::adam_chunks_kernel<float>(...)", "optimizer"),
    ("void vt::cuda_kernels::merge_partials_kernel<float>(...)", "reduction"),
    ("void vt::cuda_kernels::embedding_segment_sum_kernel<float>(...)", "embedding"),
    ("some_unknown_thing", "other"),
])
def test_family_of_kernel_names(kb, name, fam):
    assert kb.family(name) == fam


def test_short_drops_parameter_lists_keeps_template_arguments(kb):
    name = "void vt::cuda_kernels::vectorized_kernel<float, vt::ops::AddFn>(long, float const*, float*)"
    assert kb.short(name) == "vt::cuda_kernels::vectorized_kernel<float, vt::ops::AddFn>"
    assert len(kb.short("k" * 200)) == 90 and kb.short("k" * 200).endswith("...")


def test_summarize_per_step_figures(kb):
    class R:  # the fields of probes.cupti.GpuRecord that summarize reads
        def __init__(self, name, start, end):
            self.name, self.start_ns, self.end_ns = name, start, end

    fams, kernels = kb.summarize([R("softmax_rows_kernel", 0, 2_000_000), R("softmax_rows_kernel", 0, 2_000_000),
                                  R("nvjet_gemm", 0, 1_000_000)], steps=2)
    assert fams == {"softmax": (2.0, 1.0), "gemm": (0.5, 0.5)}
    assert kernels["softmax_rows_kernel"] == (2.0, 1.0)
