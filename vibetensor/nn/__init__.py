"""vibetensor.nn: Modules, Parameter, functional ops, init and utils, with torch's API."""
from vibetensor.nn.parameter import Parameter
from vibetensor.nn import functional, init, utils  # noqa: F401 (before modules, which use them)
from vibetensor.nn.modules import *  # noqa: F401,F403
from vibetensor.nn.modules import __all__ as _modules_all
from vibetensor.nn import parallel  # noqa: F401 (after modules: its wrappers are Modules)
from vibetensor.nn.parallel import DataParallel

__all__ = ["Parameter", "functional", "init", "utils", "parallel", "DataParallel"] + _modules_all
