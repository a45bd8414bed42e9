"""Loads kernels/triton/ of this checkout as the package ``_vt_triton_families`` (the installed
vibetensor.kernels may be another checkout's), its kernels decorated for Triton's CPU interpreter."""
import importlib
import importlib.util
import pathlib
import sys

PACKAGE = "_vt_triton_families"
SOURCE = pathlib.Path(__file__).resolve().parents[2] / "kernels" / "triton"
FAMILIES = ("softmax", "layer_norm", "rms_norm", "cross_entropy", "gelu", "rotary", "matmul", "elementwise", "optim",
            "embedding")


def family(name):
    """The module kernels/triton/<name>.py (interpreted when TRITON_INTERPRET=1, as in this folder's
    tests: conftest.py)."""
    return _import(name)


def _import(name):
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, SOURCE / "__init__.py",
                                                      submodule_search_locations=[str(SOURCE)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.{name}")


# Note [Interpreter scalar index]
# The interpreter holds a scalar kernel argument as a one-element 1-D numpy array and converts it with
# int(array) in `range(..., n_cols, ...)`; NumPy >= 2.4 refuses that for non-0-d arrays. Re-patch the
# tensor's __index__ to take the single element; the interpreter's patch scope restores both after
# each launch.
def _fix_interpreter_index():
    from triton.runtime import interpreter

    if getattr(interpreter, "_vt_index_fixed", False):
        return
    original = interpreter._patch_lang_tensor

    def patch_lang_tensor(tensor, scope):
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))

    interpreter._patch_lang_tensor = patch_lang_tensor
    interpreter._vt_index_fixed = True


def interpreted_family(name):
    """family(name), checked to be interpreted."""
    _fix_interpreter_index()
    module = family(name)
    from triton.runtime.interpreter import InterpretedFunction
    assert isinstance(next(iter(module.KERNELS.values())), InterpretedFunction), "kernels are not interpreted"
    return module
