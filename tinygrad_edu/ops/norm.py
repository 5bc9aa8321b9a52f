"""Normalisation: standardise x over some axes, then scale and shift it (LayerNorm, BatchNorm).

Both layers compute the same thing and differ only in *which* axes they average over:

    LayerNorm: the trailing axes of each sample        x (N, L, E), axes (2,)     γ, β of shape (E,)
    BatchNorm: the batch (and spatial) axes            x (N, C, H, W), axes (0, 2, 3)   γ, β viewed as (C, 1, 1)

Their backward is the classic derivation worth reading once, so it is its own Function instead
of a chain of mean / sub / div ops (which would also be slower and store more arrays).
"""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Function
from ..device import xp_of
from .elementwise import unbroadcast
from .reduce import scaled_deviations


def standardize(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """x̂ = (x − μ) / √(σ² + ε) over ``axes`` (biased σ²), and 1/√(σ² + ε) with the axes kept.

    Two passes (the mean first, then the squared deviations) so the variance is never the
    difference of two large numbers. And scaled: a float32 row like [1e30, −1e30, 0] has
    (x − μ)² = 1e60, far past float32's 3.4e38, yet x̂ = [1.2247, −1.2247, 0] is ordinary. So each
    slice is first divided by s = 2^k ≥ its max |x| (ops.reduce.scaled_deviations: exact, and a
    no-op for slices below 1), and since x̂ does not change when x and √(σ² + ε) scale together,

        x̂ = d / √(σ_s² + ε/s²),   d = x/s − mean(x/s),   σ_s² = mean(d²) ≤ 4,
        1/√(σ² + ε) = (1/s) · 1/√(σ_s² + ε/s²).

    ε/s² may underflow to 0 for huge slices; then a constant slice (σ_s = 0, d = 0) would divide
    0 by 0, so its denominator is taken as 1 there (x̂ = 0) and 1/√(σ² + ε) as 1/√ε, its exact value.
    """
    xp = xp_of(x)
    d, k = scaled_deviations(x, axes)
    n = math.prod(x.shape[a] for a in axes)
    var_s = (d * d).sum(axis=axes, keepdims=True) / x.dtype.type(n)
    eps_s = xp.ldexp(xp.asarray(eps, dtype=x.dtype), -2 * k)  # ε / s²
    den = xp.sqrt(var_s + eps_s)
    dead = den == 0  # σ_s = 0 and ε/s² underflowed (or ε = 0): a constant slice
    inv_s = 1 / xp.where(dead, 1, den).astype(x.dtype, copy=False)
    inv_std = xp.where(dead & (k > 0), 1 / math.sqrt(eps) if eps > 0 else math.inf, xp.ldexp(inv_s, -k))
    return d * inv_s, inv_std.astype(x.dtype, copy=False)


class Normalize(Function):
    """y = γ · x̂ + β,   x̂ = (x − μ) / √(σ² + ε),   μ and σ² (biased) taken over the axes A (n elements)

    Backward. With dx̂ = dy · γ and σ̂ = √(σ² + ε), and every mean taken over A:

        dx = (1/σ̂) · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
        dγ = Σ dy · x̂,    dβ = Σ dy           (summed over the axes along which γ was broadcast)

    Why: x̂ depends on x directly and through μ and σ². Moving one xᵢ shifts μ by 1/n, which
    moves every x̂ⱼ by −1/(nσ̂): that is the −mean(dx̂) term. It also changes σ² by 2(xᵢ − μ)/n,
    which rescales every x̂ⱼ by −x̂ⱼ x̂ᵢ/(nσ̂): that is the −x̂ · mean(dx̂ · x̂) term.
    γ and β may be None (no affine part); they broadcast against x.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        x_hat, inv_std = standardize(x, axes, eps)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes = axes
        ctx.bias_shape = None if bias is None else bias.shape
        y = x_hat if weight is None else x_hat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes = ctx.axes
        dx_hat = dy if weight is None else dy * weight
        dx = inv_std * (
            dx_hat - dx_hat.mean(axis=axes, keepdims=True) - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
        )
        dw = unbroadcast(dy * x_hat, weight.shape) if weight is not None and ctx.needs_input_grad[1] else None
        db = unbroadcast(dy, ctx.bias_shape) if ctx.bias_shape is not None and ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None


class LayerNorm(Normalize):
    """Normalize over the trailing axes of each sample (the axes of ``normalized_shape``).

    Every sample gets its own μ and σ², so the result does not depend on the batch: the same in
    training and evaluation. γ and β have the normalized shape and broadcast over the leading axes.
    """


class BatchNorm(Normalize):
    """Normalize over the batch axis and the spatial axes, one μ and σ² per channel.

    x (N, C) or (N, C, L): axes (0,) or (0, 2); x (N, C, H, W): axes (0, 2, 3). γ and β come in
    viewed as (C, 1, ...) so they broadcast along the channel axis. This is the training-mode
    forward; in evaluation BatchNorm uses its running statistics instead (a plain affine map).
    """
