"""install_as_torch / uninstall: vibetensor's modules in sys.modules under torch's names, and back."""
import importlib
import sys
from typing import Dict, Optional

from vibetensor.compat.alias_map import alias_map
from vibetensor.compat.missing_finder import MissingTorchModuleFinder

# While installed: the finder, and the torch entries of sys.modules found at install (restored by uninstall).
_finder: Optional[MissingTorchModuleFinder] = None
_replaced: Dict[str, object] = {}


def _torch_entries() -> Dict[str, object]:
    return {name: m for name, m in sys.modules.items() if name == "torch" or name.startswith("torch.")}


def is_installed() -> bool:
    return _finder is not None


def install_as_torch(*, force: bool = False):
    """Makes `import torch` (and every torch.X that vibetensor has) give vibetensor's modules; returns vibetensor.

    Idempotent. With the real torch already imported it refuses (a script would meet two tensor types),
    unless force=True, which takes the real torch's entries out of sys.modules until uninstall().
    """
    global _finder, _replaced
    if is_installed():
        return sys.modules["torch"]
    present = _torch_entries()
    if present and not force:
        where = getattr(present.get("torch"), "__file__", None) or ", ".join(sorted(present)[:3])
        raise RuntimeError(f"install_as_torch: the real torch is imported already ({where}); a script would mix "
                           "its tensors with vibetensor's. Install the alias before anything imports torch, "
                           "or pass force=True to take the real torch out of sys.modules until uninstall()")
    modules = {torch_name: importlib.import_module(vt_name) for torch_name, vt_name in alias_map().items()}
    for name in present:
        del sys.modules[name]
    sys.modules.update(modules)
    _replaced, _finder = present, MissingTorchModuleFinder()
    sys.meta_path.insert(0, _finder)
    return modules["torch"]


def uninstall() -> None:
    """Puts sys.modules' torch entries back as install_as_torch found them and removes the finder."""
    global _finder, _replaced
    if not is_installed():
        return
    sys.meta_path.remove(_finder)
    for name in _torch_entries():
        del sys.modules[name]
    sys.modules.update(_replaced)
    _replaced, _finder = {}, None
