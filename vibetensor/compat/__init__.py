"""vibetensor.compat: one call makes vibetensor stand in for torch, so a PyTorch script runs unchanged.

    import vibetensor.compat
    vibetensor.compat.install_as_torch()   # or: python -m vibetensor.run_as_torch script.py args...
    import torch                            # vibetensor
    from torch.optim.lr_scheduler import CosineAnnealingLR   # vibetensor.optim.lr_scheduler's

install_as_torch puts vibetensor in sys.modules as `torch` and every public vibetensor module under its
torch name once (the walk and what it skips: Note [Alias rule] in alias_map.py), so `import torch.nn as nn`,
`torch.nn` and `from torch import nn` are one object and no submodule is loaded twice. An import of a torch
module vibetensor lacks (torch.fx, torch.export) raises ModuleNotFoundError naming it; the real
torch is never a fallback. With the real torch imported already, install_as_torch refuses (force=True takes
it out of sys.modules). uninstall() restores sys.modules' torch entries as they were.

Limits: the alias renames modules, it adds nothing. A script meets vibetensor's gaps as errors: no
torch.compile; double backward (create_graph=True) stops at the fused backward kernels (softmax, norms,
cross-entropy, attention, ...) with a NotImplementedError naming the kernel; torch.__version__ is vibetensor's. torch.utils.data is
vibetensor.utils.data; torch.save/torch.load are vibetensor's, in vibetensor's own file format. The
README section "Running a PyTorch script on vibetensor" keeps the list.
"""
from vibetensor.compat.alias_map import alias_map
from vibetensor.compat.install import install_as_torch, is_installed, uninstall

__all__ = ["install_as_torch", "uninstall", "is_installed", "alias_map"]
