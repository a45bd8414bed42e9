"""vibetensor.optim: SGD, Adam, AdamW, Adamax, NAdam, RAdam, RMSprop, Adagrad, Adadelta, learning-rate schedulers and
weight averaging (swa_utils), with torch.optim's API."""
from vibetensor.optim import lr_scheduler, swa_utils
from vibetensor.optim.adadelta import Adadelta
from vibetensor.optim.adagrad import Adagrad
from vibetensor.optim.adam import Adam
from vibetensor.optim.adamax import Adamax
from vibetensor.optim.adamw import AdamW
from vibetensor.optim.nadam import NAdam
from vibetensor.optim.optimizer import Optimizer
from vibetensor.optim.radam import RAdam
from vibetensor.optim.rmsprop import RMSprop
from vibetensor.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler", "swa_utils"]
