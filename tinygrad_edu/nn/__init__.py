"""Neural-network building blocks: Module, layers, functional forms and initialisation, with PyTorch's names.

    from tinygrad_edu import nn
    import tinygrad_edu.nn.functional as F

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)

Where things are: module.py (Module), parameter.py, container.py (Sequential, ModuleList),
linear.py (Identity, Flatten, Linear, Embedding), conv.py (Conv2d, MaxPool2d, AvgPool2d),
activation.py, dropout.py, normalization.py (BatchNorm1d/2d, LayerNorm), attention.py
(MultiheadAttention, Transformer encoder), loss.py, functional.py (F), init.py (nn.init),
utils.py (gradient clipping).
"""

from . import functional, init, parallel, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer
from .container import ModuleDict, ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .dropout import Dropout
from .hooks import RemovableHandle
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedBuffer, UninitializedParameter
from .linear import Embedding, Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .parameter_list import ParameterDict, ParameterList
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from .transformer import Transformer, TransformerDecoder, TransformerDecoderLayer

__all__ = [
    "parallel",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "KLDivLoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "functional",
    "init",
    "utils",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyConv2d",
    "LazyLinear",
    "ModuleDict",
    "ParameterDict",
    "ParameterList",
    "RemovableHandle",
    "UninitializedBuffer",
    "UninitializedParameter",
]
