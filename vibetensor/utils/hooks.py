"""RemovableHandle: what tensor.register_hook returns (torch.utils.hooks.RemovableHandle)."""
from vibetensor import _C


class RemovableHandle:
    """handle.remove() takes the hook off its tensor; usable as a context manager that removes it on exit."""

    def __init__(self, tensor, hook_id):
        self._tensor = tensor
        self.id = hook_id

    def remove(self):
        if self._tensor is not None:
            _C._remove_hook(self._tensor, self.id)
            self._tensor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
