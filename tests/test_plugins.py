"""Operator plugins (Note [Plugin ops] in csrc/plugin/loader.h): the example plugin (examples/plugin) built
with the system compiler (nvcc and its CUDA kernels where a GPU is), loaded, and its ops checked against
torch on each device, forward and backward, with results shaped by an infer function, tuple results,
defaults and keywords, a kernel's error status, and calls from several threads; then plugins that are
wrong in each way the loader guards (not a plugin, ABI versions, schemas, duplicates, missing kernels
or backward ops, an init that fails or throws, a kernel that throws): each a clear Python error, and
nothing of a refused plugin registered."""
import os
import shutil
import subprocess
import sys
import threading

import pytest

torch = pytest.importorskip("torch")
import vibetensor as vt  # noqa: E402

from harness import to_torch, to_vt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "plugin"))
import build as example_build  # noqa: E402

CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
pytestmark = pytest.mark.skipif(not CC, reason="no C compiler to build plugins with")
WITH_CUDA = vt.cuda.is_available() and bool(shutil.which("nvcc") or os.path.exists("/usr/local/cuda/bin/nvcc"))


@pytest.fixture(scope="module")
def myplug(tmp_path_factory):
    """The example plugin, loaded once for the process (ops are never unloaded)."""
    path = example_build.build(str(tmp_path_factory.mktemp("myplug")), cuda=WITH_CUDA)
    if "myplug::scale" not in {n for _, names in vt.ops.loaded_libraries() for n in names}:
        assert vt.ops.load_library(path) == ["myplug::scale", "myplug::scale_backward", "myplug::add",
                                             "myplug::sum_rows", "myplug::split_sign", "myplug::fail"]
    return vt.ops.myplug


def _x(shape, seed, dtype=torch.float32):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
def test_scale_forward_backward_matches_torch(myplug, device, dtype):
    if device == "cuda" and (dtype != torch.float32 or not WITH_CUDA):
        pytest.skip("the example's CUDA kernels take float32 and need nvcc to build")
    x = _x((4, 7), 1, dtype)
    vx = to_vt(x, device).requires_grad_()
    y = myplug.scale(vx, 2.5)
    torch.testing.assert_close(to_torch(y), x * 2.5)
    assert y.grad_fn is not None and "myplug::scale" in y.grad_fn.name()
    g = _x((4, 7), 2, dtype)
    y.backward(to_vt(g, device))
    torch.testing.assert_close(to_torch(vx.grad), g * 2.5)


def test_defaults_keywords_and_strided_inputs(myplug):
    x = _x((5, 6), 3)
    torch.testing.assert_close(to_torch(myplug.scale(to_vt(x))), x)  # alpha=1.0 by default
    torch.testing.assert_close(to_torch(myplug.scale(x=to_vt(x), alpha=-3.0)), x * -3.0)
    vt_t = to_vt(x).t()  # a transposed view: the kernel walks its strides
    torch.testing.assert_close(to_torch(myplug.scale(vt_t, 2.0)), x.t() * 2.0)
    torch.testing.assert_close(to_torch(myplug.add(vt_t, to_vt(x.t().contiguous()))), 2 * x.t())


def test_infer_function_and_tuple_results(myplug):
    x = _x((3, 8), 4)
    torch.testing.assert_close(to_torch(myplug.sum_rows(to_vt(x))), x.sum(1))
    pos, neg = myplug.split_sign(to_vt(x))
    torch.testing.assert_close(to_torch(pos), x.clamp(min=0))
    torch.testing.assert_close(to_torch(neg), x.clamp(max=0))
    with pytest.raises(ValueError, match="myplug::sum_rows: the infer function of plugin .* expected a 2-d tensor"):
        myplug.sum_rows(vt.ones(3))


def test_a_kernel_error_status_and_bad_arguments_raise_clearly(myplug):
    with pytest.raises(ValueError, match="myplug::fail: the CPU kernel of plugin .* myplug::fail always fails"):
        myplug.fail(vt.ones(2))
    with pytest.raises(NotImplementedError, match="myplug: expected a float32 or float64 tensor"):
        myplug.scale(vt.ones(2, dtype=vt.int64), 2.0)
    with pytest.raises(ValueError, match="expected two tensors of one shape"):
        myplug.add(vt.ones(2), vt.ones(3))
    with pytest.raises(TypeError, match="missing required argument 'b'"):
        myplug.add(vt.ones(2))
    with pytest.raises(TypeError, match="argument 'alpha' must be float, not str"):
        myplug.scale(vt.ones(2), "2")
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        myplug.scale(vt.ones(2), beta=1.0)
    with pytest.raises(AttributeError, match="no op named myplug::nope"):
        myplug.nope  # noqa: B018


def test_calls_from_several_threads(myplug):
    xs = [_x((64, 32), 10 + i) for i in range(4)]
    results = [None] * 4

    def run(i):
        v = to_vt(xs[i])
        for _ in range(50):
            out = myplug.add(v, myplug.scale(v, 2.0))
        results[i] = to_torch(out)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, r in zip(xs, results):
        torch.testing.assert_close(r, 3 * x)


def test_loading_it_again_is_refused_without_changes(myplug, tmp_path):
    path = example_build.build(str(tmp_path))
    with pytest.raises(RuntimeError, match="myplug::scale is already defined; nothing was registered"):
        vt.ops.load_library(path)
    assert sum(p == path for p, _ in vt.ops.loaded_libraries()) == 0


# ----- plugins that are wrong ------------------------------------------------------------------------

HEADER = """#include <stddef.h>
#include "vt_plugin.h"
static vt_status ok_kernel(const vt_call* c) { (void)c; return VT_STATUS_OK; }
"""
EXPORT_VERSION = "VT_PLUGIN_EXPORT uint32_t vt_plugin_abi_version(void) { return %s; }\n"


def _init(*defs, ret="VT_STATUS_OK", before=""):
    lines = [f"  {{ vt_op_def d = {{sizeof(vt_op_def), {d}}}; if (host->register_op(host->context, &d)) return "
             "VT_STATUS_INVALID_ARGUMENT; }" for d in defs]
    return ("VT_PLUGIN_EXPORT vt_status vt_plugin_init(const vt_host* host) {\n" + before + "\n".join(lines)
            + f"\n  return {ret};\n}}\n")


def _op(schema, cpu="ok_kernel", cuda="NULL", infer="NULL", backward="NULL"):
    return f'"{schema}", {cpu}, {cuda}, {infer}, {backward}'


def _compile(tmp_path, name, source, cpp=False):
    src = tmp_path / (name + (".cpp" if cpp else ".c"))
    src.write_text(source)
    out = tmp_path / f"lib{name}.so"
    compiler = CXX if cpp else CC
    if not compiler:
        pytest.skip("no C++ compiler")
    r = subprocess.run([compiler, "-shared", "-fPIC", f"-I{vt.ops.include_dir()}", str(src), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


def _absent(namespace, op):
    with pytest.raises(AttributeError):
        getattr(getattr(vt.ops, namespace), op)


BAD = {  # name: (source, exception, message pattern, an op that must not exist afterwards)
    "not_a_plugin": ("int nothing_here = 1;\n", ValueError, "is not a vibetensor plugin: it does not export "
                     "vt_plugin_abi_version", None),
    "no_init": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION", ValueError, "does not export vt_plugin_init", None),
    "major": (HEADER + EXPORT_VERSION % "(2u << 16)" + _init(_op("major::a(Tensor x) -> Tensor")), ValueError,
              r"built for plugin ABI 2\.0; this vibetensor has ABI 1\.0", ("major", "a")),
    "minor": (HEADER + EXPORT_VERSION % "(1u << 16 | 7u)" + _init(_op("minor::a(Tensor x) -> Tensor")), ValueError,
              r"built for plugin ABI 1\.7", ("minor", "a")),
    "duplicate": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                  + _init(_op("dup::a(Tensor x) -> Tensor"), _op("dup::a(Tensor x) -> Tensor")), RuntimeError,
                  "dup::a is registered twice; nothing was registered", ("dup", "a")),
    "bad_schema": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                   + _init(_op("bads::ok(Tensor x) -> Tensor"), _op("bads::b(Tensor x -> Tensor")), RuntimeError,
                   "nothing was registered", ("bads", "ok")),
    "arg_type": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                 + _init(_op("argt::c(Tensor x, int[] dims) -> Tensor")), RuntimeError,
                 "argument 'dims' has type int\\[\\]; plugin ops take Tensor, float, int and bool", ("argt", "c")),
    "vt_namespace": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION" + _init(_op("vt::mine(Tensor x) -> Tensor")),
                     RuntimeError, "the namespace vt is vibetensor's own", ("vt", "mine")),
    "no_kernel": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                  + _init(_op("nok::a(Tensor x) -> Tensor", cpu="NULL")), RuntimeError,
                  "expected a CPU or a CUDA kernel, got neither", ("nok", "a")),
    "missing_backward": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                         + _init(_op("mb::a(Tensor x) -> Tensor", backward='"mb::a_grad"')), ValueError,
                         "its backward op mb::a_grad is not an op of this plugin", ("mb", "a")),
    "backward_arity": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                       + _init(_op("ba::a(Tensor x, float s) -> Tensor", backward='"ba::a_backward"'),
                               _op("ba::a_backward(Tensor grad, Tensor x) -> Tensor")), ValueError,
                       r"must take 1 gradient\(s\) then the op's 2 argument\(s\)", ("ba", "a")),
    "init_error": (HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION"
                   + _init(_op("ie::a(Tensor x) -> Tensor"), ret="VT_STATUS_INTERNAL",
                           before='  host->set_error(host->context, "no license server");\n'), RuntimeError,
                   "vt_plugin_init returned VT_STATUS_INTERNAL: no license server; nothing was registered", ("ie", "a")),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_plugin_is_refused_and_leaves_nothing(tmp_path, name):
    source, exc, pattern, op = BAD[name]
    path = _compile(tmp_path, name, source)
    with pytest.raises(exc, match=pattern):
        vt.ops.load_library(path)
    if op:
        _absent(*op)
    assert path not in [p for p, _ in vt.ops.loaded_libraries()]


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="cannot load .*nope.so"):
        vt.ops.load_library(tmp_path / "nope.so")


CXX_THROWS = HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION" + """#include <stdexcept>
static vt_status throwing_kernel(const vt_call*) { throw std::runtime_error("kernel boom"); }
extern "C" VT_PLUGIN_EXPORT vt_status vt_plugin_init(const vt_host* host) {
  vt_op_def d = {sizeof(vt_op_def), "cxx::k(Tensor x) -> Tensor", throwing_kernel, NULL, NULL, NULL};
  host->register_op(host->context, &d);
  if (THROW_IN_INIT) throw std::runtime_error("init boom");
  return VT_STATUS_OK;
}
"""


def test_cpp_exceptions_do_not_cross_the_boundary(tmp_path):
    src = CXX_THROWS.replace("VT_PLUGIN_EXPORT uint32_t", 'extern "C" VT_PLUGIN_EXPORT uint32_t')
    path = _compile(tmp_path, "cxx_init", src.replace("THROW_IN_INIT", "1"), cpp=True)
    with pytest.raises(RuntimeError, match="vt_plugin_init threw a C\\+\\+ exception across the C ABI"):
        vt.ops.load_library(path)
    _absent("cxx", "k")
    path = _compile(tmp_path, "cxx_kernel", src.replace("THROW_IN_INIT", "0"), cpp=True)
    assert vt.ops.load_library(path) == ["cxx::k"]
    with pytest.raises(RuntimeError, match="cxx::k: the CPU kernel of plugin .* threw a C\\+\\+ exception"):
        vt.ops.cxx.k(vt.ones(2))


def test_an_older_plugin_struct_without_backward_loads(tmp_path):
    """A plugin built when vt_op_def ended before `backward` (its size says so) still loads."""
    src = HEADER + EXPORT_VERSION % "VT_PLUGIN_ABI_VERSION" + """
static vt_status copy_kernel(const vt_call* c) {
  const float* x = (const float*)c->tensors[0].data; float* y = (float*)c->outputs[0].data;
  for (int64_t i = 0; i < c->tensors[0].shape[0]; ++i) y[i] = x[i * c->tensors[0].strides[0]];
  return VT_STATUS_OK;
}
VT_PLUGIN_EXPORT vt_status vt_plugin_init(const vt_host* host) {
  vt_op_def d = {offsetof(vt_op_def, backward), "old::copy(Tensor x) -> Tensor", copy_kernel, NULL, NULL,
                 (const char*)1 /* past its size: never read */};
  return host->register_op(host->context, &d);
}
"""
    assert vt.ops.load_library(_compile(tmp_path, "older", src)) == ["old::copy"]
    x = vt.arange(6, dtype=vt.float32)[::2]
    assert vt.ops.old.copy(x).tolist() == [0.0, 2.0, 4.0]


def test_double_backward_through_a_plugin_backward_is_refused(myplug):
    """create_graph=True needs the plugin backward op's own derivative, which plugins do not register."""
    x = vt.tensor([1.0, 2.0]).requires_grad_()
    (g,) = vt.autograd.grad(myplug.scale(x, 3.0).sum(), x)
    assert g.tolist() == [3.0, 3.0]
    with pytest.raises(NotImplementedError, match="myplug::scale_backward"):
        vt.autograd.grad((myplug.scale(x, 3.0) * x).sum(), x, create_graph=True)
