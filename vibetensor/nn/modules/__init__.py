from vibetensor.nn.modules.activation import (ELU, GELU, GLU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                                              LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin,
                                              Softplus, Tanh)
from vibetensor.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from vibetensor.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from vibetensor.nn.modules.conv import Conv1d, Conv2d
from vibetensor.nn.modules.distance import CosineSimilarity, PairwiseDistance
from vibetensor.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from vibetensor.nn.modules.flatten import Flatten, Unflatten
from vibetensor.nn.modules.linear import Bilinear, Identity, Linear
from vibetensor.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                                        MSELoss, NLLLoss, SmoothL1Loss)
from vibetensor.nn.modules.module import Module
from vibetensor.nn.modules.normalization import GroupNorm, LayerNorm, RMSNorm
from vibetensor.nn.modules.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                                           ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                                           ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                                           ZeroPad3d)
from vibetensor.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from vibetensor.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                                           MaxPool2d)
from vibetensor.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, RNNCellBase
from vibetensor.nn.modules.sparse import Embedding
from vibetensor.nn.modules.transformer import (MultiheadAttention, Transformer, TransformerDecoder,
                                               TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)
from vibetensor.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Module", "Linear", "Identity", "Embedding", "LayerNorm", "RMSNorm", "Dropout", "GELU", "ReLU", "SiLU",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "Flatten", "Unflatten", "Conv1d", "Conv2d", "MaxPool1d",
           "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
           "RNN", "LSTM", "GRU",
           "LeakyReLU", "ELU", "Softplus", "Mish", "Hardtanh", "ReLU6", "Hardswish", "Hardsigmoid", "LogSigmoid",
           "Softmin", "GLU", "PReLU", "CosineSimilarity", "PairwiseDistance", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "KLDivLoss", "ParameterList", "ParameterDict", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "Bilinear",
           "PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Dropout1d",
           "Dropout2d", "Dropout3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
           "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]
