"""Activation functions: tanh, sigmoid, ReLU, leaky ReLU, GELU — the nonlinearities between layers.

Each reads ``y = f(x)``, ``dx = dy · f'(x)``, like the elementwise ops; they live in their own
file because each one's derivative is worth a look of its own (sigmoid's y(1 − y), ReLU's step,
GELU's Φ(x) + x·φ(x)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Function
from ..device import device_of, xp_of


class Tanh(Function):
    """y = tanh x            dx = dy · (1 − y²)"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (1 - y * y)


def sigmoid_array(x: Any) -> Any:
    """σ(x) from e^−|x|, which never overflows: for x ≥ 0, σ = 1/(1 + e^−|x|); for x < 0,
    σ = e^−|x| / (1 + e^−|x|). Both are the same function; each is safe on its side.
    """
    xp = xp_of(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """y = 1 / (1 + e^−x)    dx = dy · y · (1 − y)       (forward: see sigmoid_array)"""

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * y * (1 - y)


class ReLU(Function):
    """y = max(x, 0)         dx = dy · [x > 0] = dy · [y > 0]

    The backward reads the output y, so nothing else is kept (PyTorch does the same). Both
    passes are kernels of the table (relu, relu_backward): one line each in NumPy, one threaded
    vector pass each in Numba.
    """

    @staticmethod
    def forward(ctx, x):
        y = kernels.for_device(device_of(x), "relu").relu(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return kernels.for_device(device_of(dy), "relu").relu_backward(dy, y)


class LeakyReLU(Function):
    """y = x if x > 0 else a·x       dx = dy · (1 if x > 0 else a)      (a: the negative slope)"""

    @staticmethod
    def forward(ctx, x, a):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.a = a
        return xp_of(x).where(positive, x, a * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        (positive,) = ctx.saved_tensors
        return xp_of(dy).where(positive, dy, ctx.a * dy).astype(dy.dtype, copy=False), None


def _erf(x: Any) -> Any:
    """The error function, from SciPy on the host or CuPy's copy of it on the GPU."""
    if xp_of(x) is np:
        from scipy.special import erf
    else:
        from cupyx.scipy.special import erf
    return erf(x)


class GELU(Function):
    """y = x · Φ(x), Φ the standard normal CDF = ½(1 + erf(x/√2))     dx = dy · (Φ(x) + x · φ(x))

    φ(x) = e^(−x²/2) / √(2π) is the normal density. With approximate="tanh" (as PyTorch):
    y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),  dx = dy · (½(1 + t) + ½x(1 − t²) · du/dx), t = tanh u.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return (0.5 * x * (1 + xp.tanh(u))).astype(x.dtype, copy=False)
        return (x * (1 + _erf(x / math.sqrt(2))) * 0.5).astype(x.dtype, copy=False)  # PyTorch's order: inf past 1.7e38

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = xp_of(x)
        if ctx.approximate == "tanh":
            c = math.sqrt(2 / math.pi)
            t = xp.tanh(c * (x + 0.044715 * x**3))
            dydx = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
            pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            dydx = cdf + x * pdf
        return (dy * dydx).astype(dy.dtype, copy=False), None
