"""Reductions and the softmax family: sum, amax/amin, logsumexp, softmax, log_softmax.

A reduction's backward sends dy back to every element that fed it: for a sum each element gets dy
unchanged (broadcast back over the summed axes); for a max only the winners do.
``mean`` and ``var`` are compositions of these (see ``Tensor.mean`` and ``Tensor.var``);
``max(dim)`` is an argmax followed by a gather (see movement.Gather).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd import Function
from ..device import xp_of

# What max(dim) / min(dim) return, like torch.return_types.max: both fields are Tensors.
MaxResult = namedtuple("MaxResult", ["values", "indices"])


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Turn ``dim`` (None, an int or a tuple, negatives allowed) into sorted non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, tuple | list) else (dim,)
    axes = []
    for d in dims:
        if not isinstance(d, int | np.integer):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {d!r}")
        if ndim == 0 and d in (0, -1):  # a 0-d tensor has one (virtual) dim, as in PyTorch
            continue
        if not -ndim <= d < ndim:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims (use {-ndim}..{ndim - 1})")
        axes.append(int(d) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names the same axis twice")
    return tuple(sorted(axes))


def _keep(dy: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
    """dy with the reduced axes put back as size-1 axes, ready to broadcast against x."""
    return dy if keepdim else xp_of(dy).expand_dims(dy, axes) if axes else dy


class Sum(Function):
    """y = Σᵢ xᵢ over the axes       dx = dy, broadcast back to x's shape (every xᵢ has ∂y/∂xᵢ = 1)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, dy):
        return xp_of(dy).broadcast_to(_keep(dy, ctx.axes, ctx.keepdim), ctx.shape), None, None


class Amax(Function):
    """y = max over the axes        dx = dy · [x = y] / (number of ties)

    Every element that reaches the maximum shares the gradient equally (PyTorch's amax rule).
    ``Amax.apply(-x)`` negated gives amin.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = x.max(axis=axes, keepdims=True)
        winners = (x == y).astype(x.dtype)
        ctx.save_for_backward(winners / winners.sum(axis=axes, keepdims=True))
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dy):
        (share,) = ctx.saved_tensors
        return (_keep(dy, ctx.axes, ctx.keepdim) * share).astype(dy.dtype, copy=False), None, None


def _stable_max(x: Any, axes: Any) -> Any:
    """max over the axes (kept), with ±inf replaced by 0 so that x − m never makes inf − inf."""
    xp = xp_of(x)
    m = x.max(axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)


class LogSumExp(Function):
    """y = log Σᵢ e^xᵢ = m + log Σᵢ e^(xᵢ−m), m = max x       dx = dy · e^(x−y) = dy · softmax(x)

    Subtracting the max first keeps every exponent ≤ 0, so nothing overflows.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = xp_of(x)
        m = _stable_max(x, axes)
        with np.errstate(divide="ignore"):  # log 0 = −inf when every x is −inf
            y = m + xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            softmax = xp_of(x).exp(x - y)
        return _keep(dy, ctx.axes, ctx.keepdim) * softmax, None, None


class Softmax(Function):
    """yᵢ = e^(xᵢ−m) / Σⱼ e^(xⱼ−m) along one axis       dx = y · (dy − Σⱼ dyⱼ yⱼ)

    (The Jacobian is diag(y) − y yᵀ; multiplying dy by it gives the line above.)
    """

    @staticmethod
    def forward(ctx, x, axis):
        e = xp_of(x).exp(x - _stable_max(x, axis))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return y * (dy - (dy * y).sum(axis=ctx.axis, keepdims=True)), None


def log_softmax_array(x: Any, axis: int) -> Any:
    """log softmax(x) = x − m − log Σ e^(x−m) on a plain array (also used by cross_entropy)."""
    xp = xp_of(x)
    shifted = x - _stable_max(x, axis)
    with np.errstate(divide="ignore"):
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ − log Σⱼ e^xⱼ along one axis        dx = dy − softmax(x) · Σⱼ dyⱼ"""

    @staticmethod
    def forward(ctx, x, axis):
        y = log_softmax_array(x, axis)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy - xp_of(y).exp(y) * dy.sum(axis=ctx.axis, keepdims=True), None
