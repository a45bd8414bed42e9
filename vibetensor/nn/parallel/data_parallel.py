"""nn.DataParallel on one device: the wrapped module runs as it is (torch does the same with one GPU or none)."""
from vibetensor.nn.modules.module import Module


class DataParallel(Module):
    """Wraps `module`; forward calls it. vibetensor replicates nothing: one device serves the batch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
