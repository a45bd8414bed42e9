"""A meta-path finder that turns an import of a torch submodule vibetensor lacks into a clear error."""
import importlib.abc


class MissingTorchModuleFinder(importlib.abc.MetaPathFinder):
    """Raises ModuleNotFoundError for every torch.* module not already in sys.modules.

    Every module vibetensor has is put in sys.modules under its torch name at install, and a finder is
    asked only about names missing there, so each name it sees is one vibetensor lacks. It sits first on
    sys.meta_path: the default path finder would otherwise look for torch.X in vibetensor's folder and
    load a second copy of a private module (vibetensor/_tensor.py as torch._tensor). The real torch is
    never a fallback: a script would get two tensor types. It raises rather than answering None, so
    importlib.util.find_spec('torch.utils') raises too (a probe for an optional torch module should
    catch ModuleNotFoundError, as it must for a missing parent anyway).
    """

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("torch."):
            return None
        vt_name = "vibetensor" + fullname[len("torch"):]
        private = any(part.startswith("_") for part in fullname.split("."))
        what = f"{vt_name} is private to vibetensor and not aliased" if private else f"vibetensor has no {vt_name}"
        raise ModuleNotFoundError(
            f"No module named '{fullname}': torch is vibetensor here (vibetensor.compat.install_as_torch), and "
            f"{what}; the real torch is not used as a fallback (see 'Running a PyTorch script on vibetensor' "
            "in the README for what is missing)", name=fullname)
