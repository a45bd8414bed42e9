"""vibetensor.autograd: backward, grad, custom Functions and grad-mode contexts."""
from vibetensor.autograd.engine import backward, grad
from vibetensor.autograd.function import Function, FunctionCtx
from vibetensor.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled"]
