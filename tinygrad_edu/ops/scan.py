"""Products and running (cumulative) ops along one axis: prod, cumsum, cumprod, cummax/cummin, logcumsumexp.

A running op's output yᵢ depends on x₀ … xᵢ, so in backward xᵢ collects from every yⱼ with j ≥ i:
the gradient runs the other way, a *reverse* cumulative sum. ``rev_cumsum`` writes that once.
Products need care at zeros: ∂(Π xₖ)/∂xᵢ is the product of the *others*, which y / xᵢ only gives
when xᵢ ≠ 0, so Prod and Cumprod compute it without dividing by zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..device import xp_of


def rev_cumsum(a: Any, axis: int) -> Any:
    """Σ_{j ≥ i} a_j along ``axis``: the cumulative sum taken from the end."""
    xp = xp_of(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class Prod(Function):
    """y = Πᵢ xᵢ over the axes        dxᵢ = dy · Π_{k≠i} xₖ   (the product of the others)

    With no zero in the group that is dy · y / xᵢ. With exactly one zero, only that zero element
    gets a gradient (the product of the nonzero rest); with two or more zeros every gradient is 0.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = x.prod(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp = xp_of(dy)
        dy = dy if ctx.keepdim or not ctx.axes else xp.expand_dims(dy, ctx.axes)
        zero = x == 0
        zeros = zero.sum(axis=ctx.axes, keepdims=True)
        nonzero_product = xp.where(zero, 1, x).prod(axis=ctx.axes, keepdims=True)
        others = xp.where(zeros == 0, y / xp.where(zero, 1, x), xp.where(zero & (zeros == 1), nonzero_product, 0))
        return (dy * others).astype(x.dtype, copy=False), None, None


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along one axis        dxᵢ = Σ_{j≥i} dyⱼ   (a reverse cumulative sum)"""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return xp_of(x).cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        return rev_cumsum(dy, ctx.axis), None


class Cumprod(Function):
    """yᵢ = Π_{j≤i} xⱼ along one axis        dxᵢ = Σ_{j≥i} dyⱼ · Π_{k≤j, k≠i} xₖ

    Without zeros the inner product is yⱼ / xᵢ, so dx = rev_cumsum(dy · y) / x. With a zero along
    a line, the formula is evaluated as written (for each i, the running product with xᵢ set to 1).
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = xp_of(x).cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp, axis = xp_of(dy), ctx.axis
        if not bool((x == 0).any()):
            return rev_cumsum(dy * y, axis) / x, None
        xl, dyl = xp.moveaxis(x, axis, -1), xp.moveaxis(dy, axis, -1)
        dx = xp.empty_like(xl)
        for i in range(xl.shape[-1]):
            after_i = xl[..., i:].copy()
            after_i[..., 0] = 1
            running = xp.cumprod(after_i, axis=-1)  # Π_{i<k≤j} xₖ for j ≥ i
            dx[..., i] = (dyl[..., i:] * running).sum(axis=-1) * (xl[..., :i].prod(axis=-1) if i else 1)
        return xp.moveaxis(dx, -1, axis), None


def running_extreme_indices(x: Any, axis: int, largest: bool) -> Any:
    """For cummax (largest) / cummin: the index of the latest element that reached the running max/min.

    yⱼ is the running extreme; xⱼ == yⱼ marks a new (or tied) record at j, and index i takes the
    last record at or before i (PyTorch's choice at ties).
    """
    xp = xp_of(x)
    y = (xp.maximum if largest else xp.minimum).accumulate(x, axis=axis)
    positions = xp.arange(x.shape[axis]).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    records = xp.where(x == y, positions, 0)
    return xp.maximum.accumulate(records, axis=axis).astype(np.int64)


class LogCumSumExp(Function):
    """yᵢ = log Σ_{j≤i} e^xⱼ along one axis      dxᵢ = Σ_{j≥i} dyⱼ · e^(xᵢ − yⱼ)

    Forward adds one term at a time with logaddexp (never overflows). Backward keeps the sum in
    log space as well: for the positive and the negative parts of dy separately,
    dxᵢ = e^(xᵢ + Sᵢ) with Sᵢ = log Σ_{j≥i} |dyⱼ| e^(−yⱼ) a reverse logcumsumexp, and every
    exponent xᵢ − yⱼ ≤ 0.
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = _logcumsumexp(x, axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp, axis = xp_of(dy), ctx.axis
        parts = []
        for part in (xp.maximum(dy, 0), xp.maximum(-dy, 0)):
            s = xp.flip(_logcumsumexp(xp.flip(xp.log(part) - y, axis), axis), axis)
            parts.append(xp.exp(x + s))
        return (parts[0] - parts[1]).astype(x.dtype, copy=False), None


def _logcumsumexp(x: Any, axis: int) -> Any:
    """log Σ_{j≤i} e^xⱼ, one logaddexp at a time (NumPy), or shifted by the max along the axis (CuPy)."""
    xp = xp_of(x)
    if xp is np:
        with np.errstate(invalid="ignore"):
            return np.logaddexp.accumulate(x, axis=axis)
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return m + xp.log(xp.cumsum(xp.exp(x - m), axis=axis))
