"""Runs the kernels of kernels/triton/ under Triton's CPU interpreter (TRITON_INTERPRET=1, set before
any kernel module is imported) and loads that package from this checkout as ``_vt_triton_families``.

Importing this conftest sets TRITON_INTERPRET for the whole pytest process; @triton.jit reads it when a
kernel is decorated, so kernels decorated earlier (vibetensor.kernels.triton_ops) stay compiled."""
import importlib
import importlib.util
import os
import pathlib
import sys

import pytest

os.environ["TRITON_INTERPRET"] = "1"

PACKAGE = "_vt_triton_families"
SOURCE = pathlib.Path(__file__).resolve().parents[2] / "kernels" / "triton"


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


def load_family(name):
    """kernels/triton/<name>.py of this checkout, decorated under the interpreter."""
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    _fix_interpreter_index()
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, SOURCE / "__init__.py",
                                                      submodule_search_locations=[str(SOURCE)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    module = importlib.import_module(f"{PACKAGE}.{name}")
    from triton.runtime.interpreter import InterpretedFunction
    assert isinstance(next(iter(module.KERNELS.values())), InterpretedFunction), "kernels are not interpreted"
    return module
