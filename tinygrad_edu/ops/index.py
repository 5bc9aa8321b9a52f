"""Scatter: the mirror of gather. ``gather`` reads y[i][j] = x[i][index[i][j]]; scatter *writes*
y[i][index[i][j]] = src[i][j] (along dim 1; any dim in general).

Their backwards mirror each other too: the gradient of what scatter wrote is dy gathered back from
the same places, and what gather read receives dy scattered (added) into those places.
``index_select`` and ``masked_select`` are indexings (movement.GetItem), and ``nonzero`` has no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..device import xp_of
from .elementwise import _wanted
from .movement import _along_axis_index, _scatter_add

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _leading(a: Any, shape: tuple[int, ...]) -> Any:
    """The leading block of ``a`` with ``shape`` (src may be larger than index, as in PyTorch)."""
    return a[tuple(slice(0, n) for n in shape)]


def _ufunc_at(ufunc: Any, y: Any, where: Any, values: Any) -> None:
    """y[where] ∘= values for every pick, repeated picks included (NumPy's ufunc.at)."""
    if isinstance(y, np.ndarray):
        ufunc.at(y, where, values)
        return
    import cupyx

    {np.add: cupyx.scatter_add, np.maximum: cupyx.scatter_max, np.minimum: cupyx.scatter_min}[ufunc](y, where, values)


class Scatter(Function):
    """y = x, then y[index[i][j]] = src[i][j] along the axis (src may be a number)

        dx = dy with the overwritten places set to 0,     dsrc = dy gathered at index

    When index names a place twice, one of the writes wins (which one is not defined, as in PyTorch).
    """

    @staticmethod
    def forward(ctx, x, axis, index, src):
        where = _along_axis_index(index, axis)
        y = x.copy()
        y[where] = _leading(src, index.shape) if hasattr(src, "shape") and src.ndim else src
        ctx.where, ctx.src_shape, ctx.index_shape = where, getattr(src, "shape", None), index.shape
        return y

    @staticmethod
    def backward(ctx, dy):
        dx = dy.copy()
        dx[ctx.where] = 0
        dsrc = None
        if ctx.src_shape is not None and _wanted(ctx, 3):
            dsrc = xp_of(dy).zeros(ctx.src_shape, dtype=dy.dtype)
            dsrc[tuple(slice(0, n) for n in ctx.index_shape)] = dy[ctx.where]
        return dx, None, None, dsrc


class ScatterReduce(Function):
    """y = x with src combined into the places index names, by ``reduce``:

        sum:  y[p] = x[p] + Σ src        dx = dy,                  dsrc = dy[p]
        mean: y[p] = (x[p] + Σ src) / n  dx = dy / n,              dsrc = dy[p] / n    (n counts the terms)
        amax: y[p] = max(x[p], src…)     the terms equal to y[p] share dy[p] equally (amin likewise)
        prod: y[p] = x[p] · Π src        each term gets dy[p] · (the product of the other terms)

    With ``include_self=False`` x[p] is left out of the places that receive src (and gets no gradient there).
    ``scatter_add`` is the sum.
    """

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self):
        xp = xp_of(x)
        where = _along_axis_index(index, axis)
        ctx.full_src_shape = src.shape
        src = _leading(src, index.shape)
        hit = xp.zeros(x.shape, dtype=bool)
        hit[where] = True
        keep_self = ~hit if not include_self else xp.ones(x.shape, dtype=bool)
        count = keep_self.astype(x.dtype)
        _ufunc_at(np.add, count, where, xp.ones(src.shape, dtype=x.dtype))
        ctx.where, ctx.src_shape, ctx.reduce, ctx.keep_self = where, src.shape, reduce, keep_self
        if reduce in ("sum", "mean"):
            y = xp.where(keep_self, x, 0).astype(x.dtype)
            _ufunc_at(np.add, y, where, src)
            if reduce == "mean":
                y = y / xp.maximum(count, 1) if x.dtype.kind == "f" else y // xp.maximum(count, 1).astype(x.dtype)
                y = xp.where(count == 0, x, y).astype(x.dtype)
            ctx.count = count
        elif reduce in ("amax", "amin"):
            ufunc = np.maximum if reduce == "amax" else np.minimum
            if x.dtype.kind == "f":
                lo, hi = -np.inf, np.inf
            else:
                lo, hi = (False, True) if x.dtype == bool else (np.iinfo(x.dtype).min, np.iinfo(x.dtype).max)
            y = xp.where(keep_self, x, lo if reduce == "amax" else hi).astype(x.dtype)
            _ufunc_at(ufunc, y, where, src)
            ctx.save_for_backward(x, src, y)
        else:
            y = xp.where(keep_self, x, 1).astype(x.dtype)
            if isinstance(y, np.ndarray):
                np.multiply.at(y, where, src)
            else:
                raise RuntimeError("scatter_reduce(reduce='prod') runs on 'cpu' only; move the tensors with .cpu()")
            ctx.save_for_backward(x, src, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        xp, where, keep = xp_of(dy), ctx.where, ctx.keep_self
        if ctx.reduce in ("sum", "mean"):
            scale = dy / xp.maximum(ctx.count, 1) if ctx.reduce == "mean" else dy
            dx = xp.where(keep, scale, 0)
            if ctx.reduce == "mean":
                dx = xp.where(ctx.count == 0, dy, dx)
            dsrc = scale[where]
        elif ctx.reduce in ("amax", "amin"):
            x, src, y = ctx.saved_tensors
            x_wins, src_wins = keep & (x == y), src == y[where]
            ties = x_wins.astype(dy.dtype)
            _ufunc_at(np.add, ties, where, src_wins.astype(dy.dtype))
            share = dy / xp.maximum(ties, 1)
            dx, dsrc = xp.where(x_wins, share, 0), xp.where(src_wins, share[where], 0)
        else:
            x, src, y = ctx.saved_tensors
            dx, dsrc = _prod_grads(x, src, y, where, keep, dy)
        full = xp.zeros(ctx.full_src_shape, dtype=dy.dtype)
        full[tuple(slice(0, n) for n in dsrc.shape)] = dsrc
        return dx.astype(dy.dtype, copy=False), None, None, full, None, None


def _prod_grads(x: Any, src: Any, y: Any, where: Any, keep: Any, dy: Any) -> tuple[Any, Any]:
    """dterm = dy[p] · (product of the other terms at p), counting zeros so that nothing divides by 0."""
    xs = np.where(keep, x, 1)
    zeros = (xs == 0).astype(np.int64)
    np.add.at(zeros, where, (src == 0).astype(np.int64))
    nonzero_product = np.where(xs == 0, 1, xs).astype(dy.dtype)
    np.multiply.at(nonzero_product, where, np.where(src == 0, 1, src))

    def others(v: Any, z: Any, p: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(z == 0, p / np.where(v == 0, 1, v), np.where((v == 0) & (z == 1), p, 0))

    dx = np.where(keep, dy * others(xs, zeros, nonzero_product), 0)
    dsrc = dy[where] * others(src, zeros[where], nonzero_product[where])
    return dx, dsrc


class ScatterAdd(Function):
    """y = x, then y[index[i][j]] += src[i][j] along the axis      dx = dy,   dsrc = dy gathered at index"""

    @staticmethod
    def forward(ctx, x, axis, index, src):
        where = _along_axis_index(index, axis)
        y = x.copy()
        _scatter_add(y, where, _leading(src, index.shape))
        ctx.where, ctx.src_shape, ctx.index_shape = where, src.shape, index.shape
        return y

    @staticmethod
    def backward(ctx, dy):
        dsrc = xp_of(dy).zeros(ctx.src_shape, dtype=dy.dtype)
        dsrc[tuple(slice(0, n) for n in ctx.index_shape)] = dy[ctx.where]
        return dy, None, None, dsrc
