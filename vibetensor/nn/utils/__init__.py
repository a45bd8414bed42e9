"""torch.nn.utils: gradient clipping, parameters as one vector, and padded / packed sequences (nn.utils.rnn)."""
from vibetensor.nn.utils import rnn  # noqa: F401
from vibetensor.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from vibetensor.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn"]
