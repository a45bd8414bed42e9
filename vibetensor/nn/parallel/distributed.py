"""nn.parallel.DistributedDataParallel: with one rank (Note [One-process distributed] in
vibetensor/distributed/__init__.py) the averaged gradient is the rank's own, so the wrapper runs the module
and leaves backward as it is; with several, the ranks start from rank 0's parameters and buffers and their
gradients are averaged in buckets during backward (Note [Gradient buckets] in _reducer.py)."""
import contextlib

from vibetensor import distributed as dist
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.nn.modules.module import Module
from vibetensor.nn.parallel._reducer import Reducer


class DistributedDataParallel(Module):
    """Wraps `module` once init_process_group has made the default group; without one it raises torch's
    ValueError. With one rank forward calls the module and no_sync() changes nothing; with several, gradients
    are averaged over the ranks during backward (bucket_cap_mb: 25 by default; overlap: the policy comm.overlap
    when None, True to reduce each bucket while backward runs, False after it), except under no_sync()."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, overlap=None, **kwargs):
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
        self._reducer = None
        if self.process_group.size() > 1:
            with no_grad():  # every rank starts from rank 0's state, as torch's DDP
                for t in list(module.parameters()) + list(module.buffers()):
                    dist.broadcast(t.detach(), 0, self.process_group)
            named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
            self._reducer = Reducer(named, self.process_group, 25.0 if bucket_cap_mb is None else bucket_cap_mb,
                                    find_unused_parameters, overlap)

    def forward(self, *inputs, **kwargs):
        if self._reducer is not None:
            self._reducer.check_previous_backward()
            self._reducer.sync = self.require_backward_grad_sync
            if self.broadcast_buffers:
                with no_grad():
                    for b in self.module.buffers():
                        dist.broadcast(b, 0, self.process_group)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before
