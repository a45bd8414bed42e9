"""The kernel suite's C++ launch path on the CPU (Note [Kernel suite launch path]): backend selection
and its fallback report, the argument buffer and specialization key, the specialization table
(one compile per key, also across threads), the Triton compiler (real compiles to sm_90 cubins,
which need no GPU) with its disk cache and its errors. Launches are in tests/gpu/test_kernel_suite_gpu.py."""
import struct
import threading

import pytest

import vibetensor as vt
from vibetensor import _C
from vibetensor.kernels import suite


@pytest.fixture
def no_report():
    suite.reset_report()
    yield
    suite.reset_report()


def _fallbacks(family):
    return {r["fallback"]: r["count"] for r in suite.report() if r["family"] == family and r["fallback"]}


def test_backend_selection_and_fallback_report(no_report):
    was_installed = suite.installed()
    try:
        with vt.policy.override({"kernels.backend": "native"}):
            assert _C._suite_backend_for("fam_sel") == "native"
        assert _fallbacks("fam_sel") == {}
        suite.uninstall()
        with vt.policy.override({"kernels.backend": "triton"}):
            assert _C._suite_backend_for("fam_sel") == "native"
            assert _C._suite_backend_for("fam_sel") == "native"
        (why, n), = _fallbacks("fam_sel").items()
        assert n == 2 and "no triton compiler is registered" in why and "import vibetensor.kernels" in why
        if suite.install():
            with vt.policy.override({"kernels.backend": "triton"}):
                assert _C._suite_backend_for("fam_sel") == "triton"
    finally:
        suite.install() if was_installed else suite.uninstall()


def test_a_family_can_take_its_own_backend(no_report):
    """set_family_backend (Note [Backend per family]): one family follows its own backend whatever
    kernels.backend says, the others follow the policy, None hands it back to the policy; bad names raise."""
    pytest.importorskip("triton")
    was_installed = suite.installed()
    assert suite.install()
    try:
        suite.set_family_backend("attention", "native")
        suite.set_family_backend("softmax", "triton")
        assert suite.family_backends() == {"attention": "native", "softmax": "triton"}
        with vt.policy.override({"kernels.backend": "triton"}):
            assert _C._suite_backend_for("attention") == "native"
            assert _C._suite_backend_for("layer_norm") == "triton"
        with vt.policy.override({"kernels.backend": "native"}):
            assert _C._suite_backend_for("softmax") == "triton"
            assert _C._suite_backend_for("layer_norm") == "native"
        suite.set_family_backend("attention", None)
        with vt.policy.override({"kernels.backend": "triton"}):
            assert _C._suite_backend_for("attention") == "triton"
        assert suite.family_backends() == {"softmax": "triton"}
        with pytest.raises(ValueError, match="unknown family 'attn'"):
            suite.set_family_backend("attn", "native")
        with pytest.raises(ValueError, match="unknown backend 'cuda'"):
            suite.set_family_backend("softmax", "cuda")
    finally:
        for family in list(suite.family_backends()):
            suite.set_family_backend(family, None)
        suite.install() if was_installed else suite.uninstall()
    assert suite.family_backends() == {}


def test_fallback_counts_are_exact_across_threads_and_reasons(no_report):
    # Note [Fallback counts]: repeats are counted without a lock; none may be lost or misfiled
    was_installed = suite.installed()
    suite.uninstall()
    try:
        with vt.policy.override({"kernels.backend": "triton"}):
            def go(i):
                for _ in range(500):
                    _C._suite_backend_for(f"fam_count_{i % 3}")

            threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for i in range(3):
            (why, n), = _fallbacks(f"fam_count_{i}").items()
            assert n == 1000 and "no triton compiler" in why, (i, n)
        suite.reset_report()
        assert _fallbacks("fam_count_0") == {}
        with vt.policy.override({"kernels.backend": "triton"}):
            _C._suite_backend_for("fam_count_0")
        assert list(_fallbacks("fam_count_0").values()) == [1]  # the key kept, the count restarted
    finally:
        suite.install() if was_installed else suite.uninstall()


def test_set_compiler_rejects_native():
    with pytest.raises(ValueError, match="expected a suite backend"):
        _C._suite_set_compiler("native", None)


# ---- the CuTe DSL backend's selection and request handling (compiles need a driver: tests/gpu) --------

def test_a_backend_serves_only_the_families_its_compiler_has_kernels_for(no_report):
    def never_called(request):
        raise AssertionError("no launch here compiles")

    had_cute = suite.installed("cute")
    try:
        _C._suite_set_compiler("cute", never_called, ["fam_cute_a"])
        with vt.policy.override({"kernels.backend": "cute"}):
            assert _C._suite_backend_for("fam_cute_a") == "cute"
            assert _C._suite_backend_for("fam_cute_b") == "native"
        assert _fallbacks("fam_cute_b") == {"the cute backend has no kernels for this family": 1}
        _C._suite_set_compiler("cute", None)
        with vt.policy.override({"kernels.backend": "cute"}):
            assert _C._suite_backend_for("fam_cute_a") == "native"
        assert "no cute compiler is registered" in next(iter(_fallbacks("fam_cute_a")))
        _C._suite_set_compiler("cute", never_called)  # no list: every family
        with vt.policy.override({"kernels.backend": "cute"}):
            assert _C._suite_backend_for("fam_cute_b") == "cute"
    finally:
        _C._suite_set_compiler("cute", None)
        if had_cute:
            suite.install()


def test_cute_request_becomes_a_kernel_spec():
    from vibetensor.kernels import cute_compiler

    request = {"kernel": "rms_norm_fwd", "signature": [("x_ptr", "*bf16"), ("w_ptr", "*fp32"), ("n_rows", "i32"),
                                                       ("x_stride", "i64"), ("eps", "fp32")],
               "constants": [("ROWS", 8), ("BLOCK", 256)], "warps": 8, "aligned": True}
    spec = cute_compiler.spec_of(request)
    assert spec.dtypes == {"x_ptr": "bf16", "w_ptr": "fp32"}
    assert spec.scalars == {"n_rows": "i32", "x_stride": "i64", "eps": "fp32"}
    assert spec.constants == {"ROWS": 8, "BLOCK": 256} and spec.threads == 256 and spec.aligned
    with pytest.raises(ValueError, match="parameter x_ptr points to u8; expected one of"):
        cute_compiler.spec_of(dict(request, signature=[("x_ptr", "*u8")]))
    assert cute_compiler.gpu_arch((9, 0)) == "sm_90a" and cute_compiler.gpu_arch((8, 6)) == "sm_86"


def test_python_launch_names_cute_parameters_from_the_declaration():
    from vibetensor.kernels import python_launch

    decl = next(d for d in _C._suite_declarations() if d[1] == "softmax_fwd")
    assert python_launch._parameter_names("softmax_fwd") == [p for p, _kind in decl[2]]
    assert python_launch._parameter_names("softmax_fwd")[:2] == ["x_ptr", "y_ptr"]
    with pytest.raises(RuntimeError, match="no C\\+\\+ declaration of a CuTe DSL kernel named 'nope'"):
        python_launch._parameter_names("nope")


def test_cute_entry_symbol_is_read_from_the_ptx():
    from vibetensor.kernels import cute_compiler

    ptx = ("//\n.version 8.8\n.target sm_90a\n\n\t// .globl\tkernel_cutlass_k_0\n\n"
           ".visible .entry kernel_cutlass_k_0(\n\t.param .u64 .ptr .global .align 16 kernel_cutlass_k_0_param_0\n)\n")
    assert cute_compiler.entry_symbol(ptx) == "kernel_cutlass_k_0"
    with pytest.raises(RuntimeError, match="expected one kernel entry"):
        cute_compiler.entry_symbol(ptx + ptx.replace("k_0", "k_1"))


# ---- with the real Triton compiler ------------------------------------------------------------

triton = pytest.importorskip("triton")
import triton.language as tl  # noqa: E402

from vibetensor.kernels import triton_compiler  # noqa: E402


@triton.jit
def _suite_test_axpy(x_ptr, y_ptr, n, alpha, big, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * alpha + big, mask=mask)


def test_aligned_variant_follows_pointers_and_named_integers():
    x = vt.randn(64)
    assert _plan("fam_align", [x, None, 32, 1.0, 3], 64)["aligned"]  # alpha, big are not aligned_params
    assert not _plan("fam_align", [x, None, 7, 1.0, 0], 64)["aligned"]  # n is one, and 7 % 16 != 0
    assert not _plan("fam_align", [x[1:], None, 32, 1.0, 0], 64)["aligned"]  # a pointer 4 bytes off
    kinds = [e["spec"] for e in triton_compiler.events() if "fam_align" not in e["spec"]]
    assert any(s.endswith("aligned]") for s in kinds)


def test_strides_named_either_way_are_aligned_params():
    # attention writes stride_qt, the row kernels x_stride: both must reach the aligned variant
    # (Note [Aligned variants]), on the C++ side (the plan) as on the Python side (the compile).
    from vibetensor.kernels.triton import aligned_param

    x, y = vt.randn(64), vt.zeros(4)
    assert _plan("fam_gather", [x, y, 16], 4, name="suite_test_gather", params=GATHER)["aligned"]
    assert not _plan("fam_gather", [x, y, 3], 4, name="suite_test_gather", params=GATHER)["aligned"]
    strides = {p for name, fn in triton_compiler.kernel_table().items() if not name.startswith("suite_test")
               for p in fn.arg_names if "stride" in p}
    assert strides and all(aligned_param(p) for p in strides), sorted(p for p in strides if not aligned_param(p))


@triton.jit
def _suite_test_bad(x_ptr, BLOCK: tl.constexpr):
    tl.store(x_ptr + tl.arange(0, BLOCK), 0.0)  # BLOCK must be a power of two


AXPY = [("x_ptr", "ptr"), ("y_ptr", "ptr"), ("n", "i32"), ("alpha", "f32"), ("big", "i64")]


@triton.jit
def _suite_test_gather(x_ptr, y_ptr, stride_x, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs * stride_x))


GATHER = [("x_ptr", "ptr"), ("y_ptr", "ptr"), ("stride_x", "i64")]


@pytest.fixture(scope="module", autouse=True)
def compiler(tmp_path_factory):
    """The Triton compiler registered, with a disk cache of this module's own."""
    was_installed = suite.installed()
    triton_compiler.set_disk_cache(tmp_path_factory.mktemp("kernel_cache"))
    for name, fn in (("suite_test_axpy", _suite_test_axpy), ("suite_test_bad", _suite_test_bad),
                     ("suite_test_gather", _suite_test_gather)):
        if name not in triton_compiler.kernel_table():
            triton_compiler.register(name, fn)
    assert suite.install()
    with vt.policy.override({"kernels.backend": "triton"}):
        yield
    triton_compiler.set_disk_cache(None)
    if not was_installed:
        suite.uninstall()


def _plan(family, args, block, warps=4, name="suite_test_axpy", params=AXPY):
    return _C._suite_plan(family, name, params, ["BLOCK"], args, [block], warps)


def test_plan_packs_arguments_in_declaration_order():
    x = vt.randn(16)
    p = _plan("fam_pack", [x, None, 7, 1.5, 2**40], 128)
    assert p["symbol"] == "_suite_test_axpy" and p["image_bytes"] > 1000 and p["threads"] == 128
    x_ptr, y_ptr, n, alpha, big = p["slots"]
    assert x_ptr == x.data_ptr() and y_ptr == 0 and n == 7 and big == 2**40
    assert alpha == struct.unpack("<I", struct.pack("<f", 1.5))[0]
    n_neg = _plan("fam_pack", [x, None, -3, 1.5, -1], 128)["slots"]
    assert n_neg[2] & 0xFFFFFFFF == (-3) & 0xFFFFFFFF and n_neg[4] == (-1) & (2**64 - 1)


def test_a_family_given_its_own_backend_launches_that_backends_kernel():
    """Note [Backend per family]: the launch takes the family's backend, not kernels.backend alone (a family
    given cute under kernels.backend=triton compiles and launches through the cute compiler)."""
    asked = []

    def cute_standin(request):  # records what the cute backend was asked for; Triton compiles the image
        asked.append(request["backend"])
        return triton_compiler.compile_request(dict(request, backend="triton"))

    had_cute = suite.installed("cute")
    _C._suite_set_compiler("cute", cute_standin, ["fam_own"])
    _C._suite_set_family_backend("fam_own", "cute")
    try:
        with vt.policy.override({"kernels.backend": "triton"}):
            p = _plan("fam_own", [vt.randn(16), vt.zeros(16), 16, 1.0, 0], 128)
        assert asked == ["cute"] and p["python_request"]["backend"] == "cute"
    finally:
        _C._suite_set_family_backend("fam_own", None)
        _C._suite_set_compiler("cute", None)
        if had_cute:
            suite.install()


def test_python_request_hands_the_launch_to_python_as_declared():
    # kernels.launch=python (Note [Python kernel launch]): what the Python launcher receives
    x, y = vt.randn(16), vt.zeros(16).to(vt.bfloat16)
    r = _plan("fam_pyreq", [x, y, -7, 1.5, 2**40], 128, warps=8)["python_request"]
    assert (r["backend"], r["family"], r["kernel"]) == ("triton", "fam_pyreq", "suite_test_axpy")
    assert r["args"] == [("ptr", x.data_ptr(), "float32"), ("ptr", y.data_ptr(), "bfloat16"), ("i32", -7, ""),
                         ("f32", 1.5, ""), ("i64", 2**40, "")]
    assert r["constants"] == [("BLOCK", 128)] and r["warps"] == 8 and r["device"] == -1
    none = _plan("fam_pyreq", [x, None, 1, 0.1, -1], 128)["python_request"]
    assert none["args"][1] == ("ptr", 0, "float32") and none["args"][4] == ("i64", -1, "")
    assert abs(none["args"][3][1] - 0.1) < 1e-8  # a float32 argument, widened
    from vibetensor.kernels.triton_runtime import TritonPointer

    p = TritonPointer.at(r["args"][1][1], r["args"][1][2])  # how the Python launcher rebuilds a pointer
    assert p.data_ptr() == y.data_ptr() and p.dtype == "bfloat16"


def test_python_launcher_registration():
    from vibetensor.kernels import python_launch

    assert _C._suite_has_python_launcher()  # suite.install() registers it with the compiler
    _C._suite_set_python_launcher(None)
    assert not _C._suite_has_python_launcher()
    _C._suite_set_python_launcher(python_launch.launch)
    assert _C._suite_has_python_launcher()
    assert vt.policy.get("kernels.launch") in ("cpp", "python")
    with pytest.raises(ValueError, match="kernels.launch"):
        vt.policy.set("kernels.launch", "ctypes")


def test_specializations_compile_once_per_key():
    x32, x16 = vt.randn(16), vt.randn(16).to(vt.bfloat16)
    first = _plan("fam_spec", [x32, None, 16, 1.0, 0], 64)
    assert first["compiled_now"] and first["specializations"] == 1
    again = _plan("fam_spec", [vt.randn(48), None, 48, 3.0, 5], 64)  # other values, same key
    assert not again["compiled_now"] and again["specializations"] == 1
    assert _plan("fam_spec", [x16, None, 16, 1.0, 0], 64)["specializations"] == 2  # dtype
    assert _plan("fam_spec", [x32, None, 16, 1.0, 0], 256)["specializations"] == 3  # constexpr
    assert _plan("fam_spec", [x32, None, 16, 1.0, 0], 256, warps=8)["threads"] == 256  # warps
    kinds = {e["spec"] for e in triton_compiler.events() if e["kernel"] == "suite_test_axpy"}
    assert any("x_ptr:bf16" in s for s in kinds) and any("BLOCK=256" in s and "warps=8" in s for s in kinds)


def test_threads_missing_on_one_key_publish_one_entry():
    x = vt.randn(8)
    results, errors = [], []

    def go():
        try:
            results.append(_plan("fam_threads", [x, None, 8, 2.0, 1], 512))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {r["specializations"] for r in results} == {1} and {r["symbol"] for r in results} == {"_suite_test_axpy"}


def test_bad_launches_raise_clear_errors():
    x = vt.randn(4)
    with pytest.raises(RuntimeError, match="does not fit the kernel's 32-bit parameter"):
        _plan("fam_err", [x, None, 2**31, 1.0, 0], 64)
    with pytest.raises(ValueError, match="5 arguments expected, got 4"):
        _plan("fam_err", [x, None, 4, 1.0], 64)
    with pytest.raises(RuntimeError, match="warps must be a power of two"):
        _plan("fam_err", [x, None, 4, 1.0, 0], 64, warps=3)


def test_declaration_that_disagrees_with_the_kernel_is_named():
    params = [("x_ptr", "ptr"), ("out_ptr", "ptr"), ("n", "i32"), ("alpha", "f32"), ("big", "i64")]
    with pytest.raises(RuntimeError, match=r"declaration of suite_test_axpy passes parameters \['x_ptr', 'out_ptr'"):
        _C._suite_plan("fam_decl", "suite_test_axpy", params, ["BLOCK"], [vt.randn(4), None, 4, 1.0, 0], [64], 4)
    with pytest.raises(RuntimeError, match="no Triton kernel is named 'no_such_kernel'"):
        _C._suite_plan("fam_decl", "no_such_kernel", [("x_ptr", "ptr")], [], [vt.randn(4)], [], 4)


def test_compile_failure_names_kernel_and_specialization():
    with pytest.raises(RuntimeError, match=r"Triton could not compile suite_test_bad \[x_ptr:fp32; BLOCK=100; warps=4"):
        _C._suite_plan("fam_bad", "suite_test_bad", [("x_ptr", "ptr")], ["BLOCK"], [vt.randn(4)], [100], 4)


def _request(block):
    return {"backend": "triton", "family": "fam_disk", "kernel": "suite_test_axpy",
            "signature": [("x_ptr", "*fp32"), ("y_ptr", "*fp32"), ("n", "i32"), ("alpha", "fp32"), ("big", "i64")],
            "constants": [("BLOCK", block)], "warps": 2, "stages": 3, "capability": (9, 0)}


def test_disk_cache_serves_a_second_request_and_rebuilds_a_corrupt_entry(tmp_path):
    before = triton_compiler.disk_cache_dir()
    triton_compiler.set_disk_cache(tmp_path)
    try:
        first = triton_compiler.compile_request(_request(32))
        assert triton_compiler.events()[-1]["source"] == "compiled"
        second = triton_compiler.compile_request(_request(32))
        assert triton_compiler.events()[-1]["source"] == "disk" and second["image"] == first["image"]
        (cubin,) = tmp_path.glob("*.cubin")
        damaged = bytearray(cubin.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        cubin.write_bytes(bytes(damaged))
        third = triton_compiler.compile_request(_request(32))
        assert triton_compiler.events()[-1]["source"].startswith("recompiled after corrupt entry: the image does not match")
        assert third["image"] == first["image"]
        (meta,) = tmp_path.glob("*.json")
        meta.write_text("{not json")
        triton_compiler.compile_request(_request(32))
        assert "recompiled after corrupt entry" in triton_compiler.events()[-1]["source"]
        assert triton_compiler.compile_request(_request(32)) and triton_compiler.events()[-1]["source"] == "disk"
    finally:
        triton_compiler.set_disk_cache(before)


# ---- the declarations of vibetensor's own ops against the Triton kernels they name -----------

def test_every_declaration_matches_its_triton_kernel():
    table = triton_compiler.kernel_table()
    decls = _C._suite_declarations()
    assert {d[0] for d in decls} >= {"softmax", "layer_norm", "rms_norm", "gelu"}
    for family, name, params, constants in decls:
        assert name in table, f"{family}: C++ declares {name}, which kernels/triton does not define"
        fn = table[name]
        assert [p[0] for p in params] == [p.name for p in fn.params if not p.is_constexpr], name
        assert constants == [p.name for p in fn.params if p.is_constexpr], name


def test_attention_blocks_mirror_agrees_with_python():
    from vibetensor.kernels.triton import attention

    for kernel in ("attn_fwd", "attn_bwd_pre", "attn_bwd_dkdv", "attn_bwd_dq"):
        py = getattr(attention, "config_" + kernel)
        for T in (1, 17, 63, 64, 65, 80, 128, 129, 1023, 1024, 2048, 8192):
            for D in attention.HEAD_DIMS:
                for nbytes in (4, 2):
                    for causal in (False, True):
                        assert _C._suite_attention_blocks(kernel, T, D, nbytes, causal) == \
                            tuple(py(T, D, nbytes, causal)), (kernel, T, D, nbytes, causal)
    with pytest.raises(ValueError, match="unknown kernel 'attn_nope'"):
        _C._suite_attention_blocks("attn_nope", 64, 32, 4, False)


def test_attention_blocks_keep_the_divisibility_the_kernels_need():
    # Note [Fused attention]: the unmasked loops assume these (kernels/triton/attention.py)
    from vibetensor.kernels.triton import attention

    for T in (1, 64, 80, 128, 2048):
        for D in attention.HEAD_DIMS:
            for nbytes in (4, 2):
                for causal in (False, True):
                    m, n, _, _ = attention.config_attn_fwd(T, D, nbytes, causal)
                    assert m % n == 0
                    m, n, _, _ = attention.config_attn_bwd_dq(T, D, nbytes, causal)
                    assert m % n == 0
                    m, n, _, _ = attention.config_attn_bwd_dkdv(T, D, nbytes, causal)
                    assert n % m == 0


def test_row_config_mirror_agrees_with_python():
    from vibetensor.kernels import triton as families

    for n_cols in list(range(1, 300)) + [511, 512, 513, 1000, 2048, 4096, 4097, 8191, 8192, 8193, 50000, 262144]:
        assert _C._suite_row_config(n_cols) == families.row_config(n_cols), n_cols
    for n_rows in (1, 7, 100, 4096, 33280, 10**6):
        for n_cols in (36, 128, 256, 1000, 8192, 9000):
            assert _C._suite_persistent_row_config(n_rows, n_cols, 132) == \
                families.persistent_row_config(n_rows, n_cols, 132), (n_rows, n_cols)
