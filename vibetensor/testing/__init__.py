"""vibetensor.testing (torch.testing): assert_close, to check results in tests as torch's does."""
from vibetensor.testing._comparison import assert_close

__all__ = ["assert_close"]
