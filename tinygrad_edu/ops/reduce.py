"""Reductions and the softmax family: sum, amax/amin, logsumexp, softmax, log_softmax, var, std.

A reduction's backward sends dy back to every element that fed it: for a sum each element gets dy
unchanged (broadcast back over the summed axes); for a max only the winners do.
``mean`` is a composition (see ``Tensor.mean``); ``var`` and ``std`` are their own ops because
their numerics need it (squares of large values overflow);
``max(dim)`` is an argmax followed by a gather (see movement.Gather).
"""

from __future__ import annotations

import math
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
        y = m + xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True))  # −inf when every x is −inf
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
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


# ---------------------------------------------------------------------------------------------
# Variance and standard deviation
# ---------------------------------------------------------------------------------------------


def scaled_deviations(x: Any, axes: tuple[int, ...], scale_up: bool = False) -> tuple[Any, Any]:
    """d = x/s − mean(x/s) over ``axes`` with s = 2^k per slice, every |x/s| < 1; and k (axes kept).

    Squaring x − x̄ overflows float32 once |x| passes ~1.8e19 (and the mean's sum once the values
    near 3.4e38), although the variance or the normalised values may be perfectly representable.
    Dividing each slice by a power of two at least its max |x| keeps every square below 4, and it
    is exact (only the exponent changes), so ordinary slices (k = 0, or any k without underflow)
    get bit for bit the values of the plain two-pass formula. Slices with max |x| < 1 are scaled
    up (k < 0) only with ``scale_up``: var and std need it, since the squares of a slice like
    [0, 1e−30] underflow to 0 in float32 (std 0 and gradient 0, where the answer is 5e−31 and
    ±0.5); layer_norm does not (there ε dominates such a slice, and ε/s² would overflow).
    The mean gets one correction pass, μ += mean(x − μ) (the corrected two-pass formula), so a
    constant slice has d = 0 exactly instead of rounding noise that ε could not hide.
    """
    xp = xp_of(x)
    n = math.prod(x.shape[a] for a in axes)
    if x.size == 0 or n == 0:
        k = xp.zeros((1,) * x.ndim, dtype=xp.int32)
    else:
        m = xp.abs(x).max(axis=axes, keepdims=True)
        _, k = xp.frexp(m)  # m = f · 2^k with ½ ≤ f < 1, so |x| ≤ m < 2^k
        scaled = (k > 0) | ((m > 0) if scale_up else False)
        k = xp.where(xp.isfinite(m) & scaled, k, 0).astype(xp.int32)  # inf/nan slices stay nan
    x_s = xp.ldexp(x, -k)  # x / 2^k; ldexp because 2^k itself may exceed the dtype (2^128 > 3.4e38)
    count = x.dtype.type(n)
    mu = x_s.sum(axis=axes, keepdims=True) / count
    mu = mu + (x_s - mu).sum(axis=axes, keepdims=True) / count  # the corrected mean: exact for a constant slice
    return x_s - mu, k


def _degrees_of_freedom(x: Any, axes: tuple[int, ...], correction: float) -> float:
    """n − correction, clamped at 0 as PyTorch does (0 makes the variance inf, or nan for a constant slice)."""
    return max(math.prod(x.shape[a] for a in axes) - correction, 0)


def _infinite_derivative(d: Any) -> Any:
    """∂v/∂x when n − c ≤ 0: 2(x − x̄)/0, which PyTorch takes as +inf, and nan where x = x̄ (0 · inf)."""
    xp = xp_of(d)
    return xp.where(d == 0, xp.nan, xp.inf).astype(d.dtype)


class Var(Function):
    """v = Σᵢ (xᵢ − x̄)² / (n − c)  over the axes (c: the correction, 1 = Bessel's)     dx = dv · 2(x − x̄)/(n − c)

    Computed from scaled deviations (see scaled_deviations): v = s² · Σ dᵢ² / (n − c), so the
    squares never overflow; v itself is inf only when it is larger than the dtype holds. With
    n − c ≤ 0 there is no variance: v = Σ/0 = inf (nan for a constant slice), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = xp_of(x)
        d, k = scaled_deviations(x, axes, scale_up=True)
        dof = _degrees_of_freedom(x, axes, correction)
        v = xp.ldexp((d * d).sum(axis=axes, keepdims=True) / x.dtype.type(dof), 2 * k)  # · s²
        ctx.save_for_backward(d, k)
        ctx.axes, ctx.keepdim, ctx.dof = axes, keepdim, dof
        return v if keepdim else v.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dv):
        d, k = ctx.saved_tensors
        dv = _keep(dv, ctx.axes, ctx.keepdim)
        if ctx.dof == 0:
            return dv * _infinite_derivative(d), None, None, None
        # 2(x − x̄)/(n − c) = s · (2d/(n − c)): scaled back last, as x − x̄ alone may pass the dtype's max
        return dv * xp_of(d).ldexp((2 / d.dtype.type(ctx.dof)) * d, k), None, None, None


class Std(Function):
    """σ = √v (v the variance above)      dx = dσ/(2σ) · 2(x − x̄)/(n − c) = dσ · (x − x̄) / ((n − c) σ)

    σ = s · √(Σ dᵢ² / (n − c)) from the scaled deviations, so σ is finite whenever it fits
    (the std of [3e38, −3e38, 0] is 3e38 although its variance is inf). Where σ = 0 (a constant
    slice) the gradient is taken as 0, PyTorch's convention for this kink.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = xp_of(x)
        d, k = scaled_deviations(x, axes, scale_up=True)
        dof = _degrees_of_freedom(x, axes, correction)
        sigma_s = xp.sqrt((d * d).sum(axis=axes, keepdims=True) / x.dtype.type(dof))  # σ / s
        ctx.save_for_backward(d, sigma_s, k)
        ctx.axes, ctx.keepdim, ctx.dof = axes, keepdim, dof
        sigma = xp.ldexp(sigma_s, k)
        return sigma if keepdim else sigma.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, dsigma):
        d, sigma_s, k = ctx.saved_tensors
        xp = xp_of(d)
        dsigma = _keep(dsigma, ctx.axes, ctx.keepdim)
        dv_s = xp.where(sigma_s == 0, 0, dsigma / (2 * sigma_s)).astype(d.dtype, copy=False)  # dσ/(2σ), times s
        if ctx.dof == 0:
            return xp.ldexp(dv_s, -k) * _infinite_derivative(d), None, None, None
        return dv_s * (2 / d.dtype.type(ctx.dof)) * d, None, None, None


def correction_of(unbiased: Any, correction: Any, op: str) -> float:
    """The c of var/std from PyTorch's two spellings: ``unbiased`` (True: c = 1) or ``correction=c`` (default 1)."""
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{op}: Cannot specify both unbiased and correction; pass only correction={correction}")
    if correction is not None:
        if isinstance(correction, bool) or not isinstance(correction, int | float | np.integer | np.floating):
            raise TypeError(f"{op}: correction must be a number, got {correction!r}")
        return correction
    return 1 if unbiased is None or unbiased else 0
