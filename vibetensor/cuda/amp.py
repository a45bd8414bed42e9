"""vibetensor.cuda.amp: torch.cuda.amp's spellings of autocast("cuda") and GradScaler("cuda")."""
import functools

from vibetensor.amp import GradScaler as _GradScaler
from vibetensor.amp import autocast as _autocast

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):
    def __init__(self, enabled=True, dtype=None, cache_enabled=None):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    @functools.wraps(_GradScaler.__init__)
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
