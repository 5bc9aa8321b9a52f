"""Neural-network building blocks: Module, layers, functional forms and initialisation, with PyTorch's names.

    from tinygrad_edu import nn
    import tinygrad_edu.nn.functional as F

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)

Where things are: module.py (Module), parameter.py, container.py (Sequential, ModuleList),
linear.py (Identity, Flatten, Linear, Embedding), conv.py (Conv2d, MaxPool2d, AvgPool2d),
activation.py, dropout.py, normalization.py (BatchNorm1d/2d, LayerNorm), attention.py
(MultiheadAttention, Transformer encoder), loss.py, functional.py (F), init.py (nn.init),
utils.py (gradient clipping, parameters_to_vector); activation_extra.py, conv_extra.py (Conv1d,
ConvTranspose1d/2d), pooling.py (1-D and adaptive pools, Upsample), normalization_extra.py (GroupNorm,
InstanceNorm), loss_extra.py (the other losses, CosineSimilarity, PairwiseDistance).
"""

from . import functional, init, parallel, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .activation_extra import (
    CELU,
    ELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from .attention import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer
from .container import ModuleDict, ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .conv_extra import Conv1d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from .hooks import RemovableHandle
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedBuffer, UninitializedParameter
from .linear import Embedding, Flatten, Identity, Linear, Unflatten
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, MSELoss, NLLLoss
from .loss_extra import (
    CosineEmbeddingLoss,
    CosineSimilarity,
    GaussianNLLLoss,
    HuberLoss,
    L1Loss,
    MarginRankingLoss,
    MultiLabelSoftMarginLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SmoothL1Loss,
    TripletMarginLoss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .normalization_extra import GroupNorm, InstanceNorm1d, InstanceNorm2d
from .parameter import Parameter
from .parameter_list import ParameterDict, ParameterList
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    MaxPool1d,
    MaxUnpool2d,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
from .rnn import GRU, LSTM, RNN, RNNBase
from .rnn_cell import GRUCell, LSTMCell, RNNCell
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
__all__ += [  # the third wave: the remaining layers, activations and losses of PyTorch's everyday surface
    "CELU",
    "ELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "PReLU",
    "ReLU6",
    "SiLU",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "Conv1d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "Unflatten",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "GaussianNLLLoss",
    "HuberLoss",
    "L1Loss",
    "MarginRankingLoss",
    "MultiLabelSoftMarginLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "TripletMarginLoss",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "MaxPool1d",
    "MaxUnpool2d",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
