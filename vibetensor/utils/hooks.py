"""RemovableHandle (torch.utils.hooks.RemovableHandle): what tensor.register_hook and a module's register_*_hook
return."""
import itertools

from vibetensor import _C


class RemovableHandle:
    """handle.remove() takes the hook off; usable as a context manager that removes it on exit.
    RemovableHandle(hooks_dict, extra_dict=None) as torch's: the hook is hooks_dict[handle.id] (and the id may be
    a key of extra_dict, a dict or a set, or a list of them, such as a module's with_kwargs set)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = next(RemovableHandle._ids)
        self._dicts = [hooks_dict] + (list(extra_dict) if isinstance(extra_dict, (list, tuple)) else
                                      [] if extra_dict is None else [extra_dict])
        self._tensor = None

    @classmethod
    def _of_tensor(cls, tensor, hook_id):
        """The handle of a hook on a tensor (kept in C++ under the engine's id, Note [Tensor hooks])."""
        handle = cls.__new__(cls)
        handle.id, handle._dicts, handle._tensor = hook_id, [], tensor
        return handle

    def remove(self):
        for d in self._dicts:
            d.discard(self.id) if isinstance(d, set) else d.pop(self.id, None)
        self._dicts = []
        if self._tensor is not None:
            _C._remove_hook(self._tensor, self.id)
            self._tensor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
