"""torch.utils's counterpart: the data loading tools (vibetensor.utils.data)."""
from vibetensor.utils import data, hooks  # noqa: F401
