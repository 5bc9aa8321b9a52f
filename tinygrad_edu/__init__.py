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

from . import cuda, data, datasets, kernels, memory, metrics, nn, optim  # memory: freed arrays kept for the next step
from .autograd import (
    Function,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .device import cuda_is_available
from .gradcheck import GradcheckError, gradcheck
from .ops.elementwise import unbroadcast
from .profile import profile
from .random import manual_seed
from .sampling import (
    bernoulli,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
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
    "memory",
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

# ---- PyTorch's everyday surface (API.md): the names PyTorch programs use, as functions -------------
from . import accelerator, backends  # noqa: E402
from .device import Device as device  # noqa: E402  (tge.device("cuda", 0); the module stays tinygrad_edu.device internally)
from .random import (  # noqa: E402
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    seed,
    set_rng_state,
)
from .surface import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    allclose,
    as_tensor,
    equal,
    get_default_dtype,
    histogram,
    is_floating_point,
    set_default_dtype,
    set_printoptions,
)
from .tensor_linalg import einsum  # noqa: E402

uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)

_FUNCTIONS = """
tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh atan2 arctan2 erf
log2 log10 log1p expm1 exp2 rsqrt reciprocal logaddexp lerp floor ceil round trunc fix sign sgn frac fmod
remainder floor_divide isnan isinf isposinf isneginf isfinite isclose nan_to_num true_divide divide multiply
subtract eq ne lt le gt ge greater greater_equal less less_equal not_equal bitwise_and bitwise_or bitwise_xor
bitwise_not bitwise_left_shift bitwise_right_shift logical_and logical_or logical_xor logical_not
prod cumsum cumprod cummax cummin logcumsumexp sort argsort msort topk std_mean var_mean count_nonzero histc
any all flip fliplr flipud roll repeat_interleave tile tril triu diag diag_embed diagonal narrow unflatten
t scatter scatter_add scatter_reduce index_select masked_select take take_along_dim nonzero argwhere
mm bmm mv dot vdot inner outer ger trace norm swapaxes
"""
for _name in _FUNCTIONS.split():
    globals()[_name] = getattr(Tensor, _name)
del _name
__all__ += [  # the everyday surface; the Tensor functions of _FUNCTIONS are added below
    "accelerator",
    "backends",
    "device",
    "einsum",
    "empty",
    "empty_like",
    "logspace",
    "meshgrid",
    "normal",
    "multinomial",
    "randperm",
    "bernoulli",
    "randint_like",
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "seed",
    "set_rng_state",
    "FloatTensor",
    "LongTensor",
    "DoubleTensor",
    "IntTensor",
    "BoolTensor",
    "ByteTensor",
    "allclose",
    "as_tensor",
    "equal",
    "get_default_dtype",
    "set_default_dtype",
    "histogram",
    "inference_mode",
    "is_inference_mode_enabled",
    "is_floating_point",
    "set_printoptions",
    "uint8",
    "int8",
    "int16",
]
__all__ += _FUNCTIONS.split()

from . import utils  # noqa: E402  (torch.utils.data's path: tge.utils.data)

__all__ += ["utils"]

from . import linalg  # noqa: E402  (torch.linalg's names: norm, vector_norm, matrix_norm, inv, det, solve)

copysign = Tensor.copysign
det = linalg.det
inverse = linalg.inv
__all__ += ["linalg", "copysign", "det", "inverse"]

lgamma, digamma = Tensor.lgamma, Tensor.digamma  # ln |Γ| and its derivative ψ (ops/gamma.py)
from . import distributions  # noqa: E402  (torch.distributions' path: Normal, Categorical, Multinomial, ...)

__all__ += ["lgamma", "digamma", "distributions"]
