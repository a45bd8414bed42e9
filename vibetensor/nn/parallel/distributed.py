"""nn.parallel.DistributedDataParallel over vibetensor's world of one process (Note [One-process distributed]
in vibetensor/distributed/__init__.py): with one rank, the averaged gradient is the rank's own, so the
wrapper runs the module and leaves backward as it is."""
import contextlib

from vibetensor import distributed as dist
from vibetensor.nn.modules.module import Module


class DistributedDataParallel(Module):
    """Wraps `module` once init_process_group has made the default group; without one it raises torch's
    ValueError. forward calls the module; no_sync() is a context that changes nothing (no gradients to sync)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        self.process_group = dist._default_group(process_group)  # torch checks the group first too
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before
