"""nn.Parameter: a Tensor that Modules register as a learnable parameter."""
from vibetensor import _C
from vibetensor import _factories
from vibetensor import _tensor_str

Tensor = _C.Tensor


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True): shares data's memory (a new leaf, without data's
    history), as torch.nn.Parameter does."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _factories.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(data): data must be a vibetensor Tensor, got {type(data).__name__}")
        super().__init__(data.detach())
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients (got {data.dtype}); "
                               "pass requires_grad=False for an integer Parameter")
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + _tensor_str.tensor_repr(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_C._ops.clone(self.detach()), self.requires_grad)
        if self.grad is not None:
            result.grad = _C._ops.clone(self.grad)
        memo[id(self)] = result
        return result
