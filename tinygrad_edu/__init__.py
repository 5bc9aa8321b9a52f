"""tinygrad_edu: a from-scratch deep-learning framework to learn from, with PyTorch's names.

    import tinygrad_edu as tge
    x = tge.randn(3, requires_grad=True)
    (x.sigmoid() * x).sum().backward()
    print(x.grad)

Every operation lives in tinygrad_edu/ops/ with its forward, its backward and its derivative
written out side by side. Heavy kernels (matmul, convolution, pooling) come from a swappable
table: ``tge.kernels.use("numba")``.
"""

from __future__ import annotations

import numpy as np

from . import cuda, data, datasets, kernels, metrics, nn, optim
from .autograd import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .device import cuda_is_available
from .gradcheck import GradcheckError, gradcheck
from .ops.elementwise import unbroadcast
from .profile import profile
from .random import manual_seed
from .serialization import load, save
from .tensor import Tensor, is_tensor
from .tensor_shape import cat, stack, where

__version__ = "0.1.0"

# dtypes, with PyTorch's names
float32 = float = np.dtype(np.float32)  # noqa: A001
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)  # noqa: A001
bool = np.dtype(np.bool_)  # noqa: A001

# The Tensor methods that PyTorch also offers as functions: tge.exp(x), tge.sum(x, dim=1), ...
exp, log, sqrt, abs, sin, cos = Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.abs, Tensor.sin, Tensor.cos  # noqa: A001
tanh, sigmoid, relu, pow, clamp, clip = (
    Tensor.tanh,
    Tensor.sigmoid,
    Tensor.relu,
    Tensor.pow,
    Tensor.clamp,
    Tensor.clip,
)  # noqa: A001
maximum, minimum, square, neg = Tensor.maximum, Tensor.minimum, Tensor.square, Tensor.neg
add, sub, mul, div, numel = Tensor.add, Tensor.sub, Tensor.mul, Tensor.div, Tensor.numel
sum, mean, var, std = Tensor.sum, Tensor.mean, Tensor.var, Tensor.std  # noqa: A001
max, min, amax, amin, argmax, argmin = (
    Tensor.max,
    Tensor.min,
    Tensor.amax,
    Tensor.amin,
    Tensor.argmax,
    Tensor.argmin,
)  # noqa: A001
softmax, log_softmax, logsumexp, matmul = Tensor.softmax, Tensor.log_softmax, Tensor.logsumexp, Tensor.matmul
reshape, flatten, squeeze, unsqueeze = Tensor.reshape, Tensor.flatten, Tensor.squeeze, Tensor.unsqueeze
transpose, permute, movedim, gather, masked_fill = (
    Tensor.transpose,
    Tensor.permute,
    Tensor.movedim,
    Tensor.gather,
    Tensor.masked_fill,
)
split, chunk, clone, detach = Tensor.split, Tensor.chunk, Tensor.clone, Tensor.detach

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "arange",
    "cat",
    "cuda",
    "cuda_is_available",
    "data",
    "datasets",
    "enable_grad",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_tensor",
    "kernels",
    "linspace",
    "load",
    "manual_seed",
    "metrics",
    "nn",
    "no_grad",
    "optim",
    "ones",
    "ones_like",
    "profile",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "save",
    "set_grad_enabled",
    "stack",
    "tensor",
    "unbroadcast",
    "where",
    "zeros",
    "zeros_like",
]
