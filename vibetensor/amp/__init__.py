"""vibetensor.amp: automatic mixed precision as torch.amp: ``autocast`` (operand casts at the
dispatcher, Note [Autocast] in csrc/dispatch/autocast.h) and ``GradScaler`` (loss scaling for float16)."""
from vibetensor.amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from vibetensor.amp.grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "is_autocast_available"]
