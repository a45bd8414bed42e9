"""The torch name of every vibetensor module that stands in for one of torch's (Note [Alias rule])."""
import importlib
import pkgutil
from typing import Dict, Iterator

import vibetensor
from vibetensor import _checkout

# Note [Alias rule]
# install_as_torch aliases vibetensor's own package tree, found by walking it with pkgutil rather than
# from a hand list, so a module added later is aliased without anyone remembering to: vibetensor.X.Y
# becomes torch.X.Y, the same module object, for every module on the walk except
# - private modules (a name part starting with "_", and everything below one): they are implementation,
#   and torch's private modules of the same names are other things (torch._C is not vibetensor._C);
#   code reaching for them gets a clear ModuleNotFoundError rather than a wrong object.
# - the layers above this package that the wheel ships under its namespace (_checkout.SHIPPED: kernels,
#   probes, experiments, paper): importing them from vibetensor/ would break the layer rule, and torch has
#   no modules of those names.
# - the alias machinery itself (NOT_ALIASED): torch.compat would hand a torch script install_as_torch.
# vibetensor-only public modules (vibetensor.policy, vibetensor.autograd.engine) are aliased: torch has no
# module or attribute of those names for them to shadow. A module that would take the name of a different
# torch thing would have to join NOT_ALIASED; tests/test_compat.py checks every aliased name against the
# real torch, so such a module cannot slip in unnoticed.
NOT_ALIASED = ("compat", "run_as_torch")


def _skipped(relative_name: str) -> bool:
    parts = relative_name.split(".")
    return any(p.startswith("_") for p in parts) or parts[0] in _checkout.SHIPPED or parts[0] in NOT_ALIASED


def _walk(package) -> Iterator[str]:
    """The names of the public modules below `package`, depth first (imports the subpackages to walk them)."""
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if _skipped(info.name[len("vibetensor."):]):
            continue
        yield info.name
        if info.ispkg:
            yield from _walk(importlib.import_module(info.name))


def alias_map() -> Dict[str, str]:
    """{torch name: vibetensor module name}, "torch" -> "vibetensor" first."""
    return {"torch": "vibetensor", **{"torch" + name[len("vibetensor"):]: name for name in _walk(vibetensor)}}
