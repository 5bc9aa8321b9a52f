"""More activations, each a Function with its derivative: ELU CELU SELU Softplus LogSigmoid Hardtanh
Hardsigmoid Hardswish SiLU Mish Softsign, written as PyTorch computes them (same constants, same
values at the kinks: the derivative of a piecewise function at its kink is the one-sided value
PyTorch uses).
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..device import xp_of

# SELU's constants (Klambauer et al. 2017), as PyTorch's
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(xp: Any, x: Any) -> Any:
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(xp: Any, x: Any) -> Any:
    """log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), exact for large |x| too."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _c(x: Any, value: float) -> Any:
    return x.dtype.type(value)


class ELU(Function):
    """y = scale · (x if x > 0 else α(e^{x/β} − 1));  dy/dx = scale (x > 0), scale · (α/β) e^{x/β} (x ≤ 0).

    ELU: scale = β = 1. CELU(α): scale = 1, β = α. SELU: ELU with α, scale the constants SELU_ALPHA, SELU_SCALE.
    """

    @staticmethod
    def forward(ctx, x, alpha, scale, beta):
        xp = xp_of(x)
        e = xp.exp(xp.minimum(x, 0) / _c(x, beta))
        ctx.save_for_backward(x, e)
        ctx.alpha, ctx.scale, ctx.beta = alpha, scale, beta
        return _c(x, scale) * xp.where(x > 0, x, _c(x, alpha) * (e - 1))

    @staticmethod
    def backward(ctx, dy):
        x, e = ctx.saved_tensors
        xp = xp_of(dy)
        slope = xp.where(x > 0, _c(x, ctx.scale), _c(x, ctx.scale * ctx.alpha / ctx.beta) * e)
        return dy * slope, None, None, None


class Softplus(Function):
    """y = (1/β) log(1 + e^{βx}), or x where βx > threshold;  dy/dx = σ(βx) (1 there)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = xp_of(x)
        bx = x * _c(x, beta)
        ctx.save_for_backward(bx)
        ctx.threshold = threshold
        return xp.where(bx > threshold, x, _softplus(xp, bx) / _c(x, beta))

    @staticmethod
    def backward(ctx, dy):
        (bx,) = ctx.saved_tensors
        xp = xp_of(dy)
        return dy * xp.where(bx > ctx.threshold, _c(bx, 1.0), _sigmoid(xp, bx)), None, None


class LogSigmoid(Function):
    """y = log σ(x) = −softplus(−x);  dy/dx = 1 − σ(x) = σ(−x)."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        return -_softplus(xp, -x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * _sigmoid(xp_of(x), -x)


class Hardtanh(Function):
    """y = clamp(x, lo, hi);  dy/dx = 1 for lo < x < hi, else 0 (ReLU6 = Hardtanh(0, 6))."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return xp_of(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ((x > ctx.lo) & (x < ctx.hi)), None, None


class Hardsigmoid(Function):
    """y = clamp(x/6 + 1/2, 0, 1);  dy/dx = 1/6 for −3 < x < 3, else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).clip(x / _c(x, 6) + _c(x, 0.5), 0, 1)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ((x > -3) & (x < 3)) / _c(dy, 6)


class Hardswish(Function):
    """y = x · clamp(x + 3, 0, 6) / 6;  dy/dx = 0 (x < −3), (2x + 3)/6 (−3 ≤ x ≤ 3), 1 (x > 3)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * xp_of(x).clip(x + 3, 0, 6) / _c(x, 6)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = xp_of(dy)
        slope = xp.where(x < -3, _c(x, 0), xp.where(x <= 3, (2 * x + 3) / _c(x, 6), _c(x, 1)))
        return dy * slope


class SiLU(Function):
    """y = x σ(x) (swish);  dy/dx = σ(x) (1 + x (1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(xp_of(x), x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, dy):
        x, s = ctx.saved_tensors
        return dy * s * (1 + x * (1 - s))


class Mish(Function):
    """y = x tanh(softplus(x));  dy/dx = t + x σ(x) (1 − t²), t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        t = xp.tanh(_softplus(xp, x))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, dy):
        x, t = ctx.saved_tensors
        return dy * (t + x * _sigmoid(xp_of(x), x) * (1 - t * t))


class Softsign(Function):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)²."""

    @staticmethod
    def forward(ctx, x):
        d = 1 + xp_of(x).abs(x)
        ctx.save_for_backward(d)
        return x / d

    @staticmethod
    def backward(ctx, dy):
        (d,) = ctx.saved_tensors
        return dy / (d * d)
