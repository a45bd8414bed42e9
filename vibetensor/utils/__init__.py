"""torch.utils's counterpart: activation checkpointing (vibetensor.utils.checkpoint), the data loading tools
(vibetensor.utils.data) and hooks."""
from vibetensor.utils import checkpoint, data, hooks  # noqa: F401
