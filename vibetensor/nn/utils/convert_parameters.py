"""torch.nn.utils.parameters_to_vector / vector_to_parameters: a model's parameters as one flat vector and back."""
from vibetensor import _C
from vibetensor import _functional as F

Tensor = _C.Tensor


def _check_same_device(param, device):
    """The device every parameter so far is on (torch's check: parameters on two devices are refused)."""
    if not isinstance(param, Tensor):
        raise TypeError(f"expected an iterable of Tensors (parameters), but got an item of type {type(param).__name__}")
    if device is not None and param.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param.device


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-D tensor (differentiable: its gradient flows back to
    the parameters)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_same_device(param, device)
        flat.append(param.reshape(-1))
    if not flat:
        raise ValueError("parameters_to_vector: expected at least one parameter, got none")
    return F.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D `vec` into the parameters, in order (the inverse of
    parameters_to_vector). vibetensor's tensor.data = value copies into the parameter's storage, so each slice
    must have its parameter's dtype, and vec exactly as many elements as the parameters together."""
    if not isinstance(vec, Tensor):
        module = type(vec).__module__
        name = type(vec).__qualname__ if module in ("", "builtins") else f"{module}.{type(vec).__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")  # (torch.typename's spelling)
    if vec.dim() != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector, got a tensor of shape {tuple(vec.shape)}")
    params = list(parameters)
    device = None
    for param in params:
        device = _check_same_device(param, device)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, the parameters {total}; expected one "
                         "element per parameter entry")
    pointer = 0
    for i, param in enumerate(params):
        if param.dtype != vec.dtype:
            raise TypeError(f"vector_to_parameters: vec is {vec.dtype}, parameter {i} is {param.dtype}; expected the "
                            "parameters' dtype (vibetensor copies into the parameters rather than replacing them)")
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
