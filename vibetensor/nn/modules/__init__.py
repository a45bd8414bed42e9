from vibetensor.nn.modules.activation import GELU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from vibetensor.nn.modules.container import ModuleDict, ModuleList, Sequential
from vibetensor.nn.modules.dropout import Dropout
from vibetensor.nn.modules.flatten import Flatten, Unflatten
from vibetensor.nn.modules.linear import Identity, Linear
from vibetensor.nn.modules.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from vibetensor.nn.modules.module import Module
from vibetensor.nn.modules.normalization import LayerNorm, RMSNorm
from vibetensor.nn.modules.sparse import Embedding

__all__ = ["Module", "Linear", "Identity", "Embedding", "LayerNorm", "RMSNorm", "Dropout", "GELU", "ReLU", "SiLU",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "Flatten", "Unflatten"]
