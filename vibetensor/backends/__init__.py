"""vibetensor.backends: switches of the compute backends, in the style of torch.backends."""
from vibetensor.backends import cuda, cudnn  # noqa: F401
