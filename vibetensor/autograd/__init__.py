"""vibetensor.autograd: backward, grad, custom Functions and grad-mode contexts."""
from vibetensor.autograd.anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                              set_detect_anomaly)
from vibetensor.autograd.engine import backward, grad
from vibetensor.autograd.function import Function, FunctionCtx
from vibetensor.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]
