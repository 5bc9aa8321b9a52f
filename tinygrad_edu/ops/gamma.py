"""The log-gamma function and its derivatives: lgamma, digamma ψ = (ln Γ)′ and trigamma ψ₁ = ψ′.

ln Γ(x) counts: Γ(n + 1) = n!, so ln n! = lgamma(n + 1) is what a multinomial or Poisson likelihood needs
without overflowing. Its derivative ψ has no closed form; it is computed from two identities:

- the recurrence ψ(x) = ψ(x + 1) − 1/x (from Γ(x + 1) = x Γ(x)) moves x up to 10 or more, where
- the asymptotic series ψ(x) ≈ ln x − 1/(2x) − Σ B₂ₖ / (2k x²ᵏ) (Bernoulli numbers B₂ₖ) is exact to
  float64's last digits with five terms;
- negative x use the reflection ψ(1 − x) − ψ(x) = π cot(πx).

ψ₁ the same way: ψ₁(x) = ψ₁(x + 1) + 1/x², ψ₁(x) ≈ 1/x + 1/(2x²) + Σ B₂ₖ / x²ᵏ⁺¹, ψ₁(1 − x) + ψ₁(x) = π² / sin²(πx).
At the poles (0, −1, −2, ...) lgamma and ψ₁ are +inf, ψ is nan (ψ(0) = −inf), as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..device import device_of, to_device

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66)  # B₂, B₄, B₆, B₈, B₁₀


def _one_lgamma(v: float) -> float:
    if math.isnan(v):
        return math.nan
    if math.isinf(v) or (v <= 0 and v == math.floor(v)):
        return math.inf  # the poles, and Γ(±∞)
    return math.lgamma(v)


def _on_host(fn):
    """Run a NumPy float64 computation on the host and give the result back on the array's device, in its dtype."""

    def run(x):
        host = np.asarray(to_device(x, "cpu"), dtype=np.float64)
        return to_device(fn(host).astype(x.dtype, copy=False), device_of(x))

    return run


@_on_host
def lgamma(x: np.ndarray) -> np.ndarray:
    """ln |Γ(x)| elementwise."""
    return np.vectorize(_one_lgamma, otypes=[np.float64])(x) if x.size else x.copy()


def _shifted_up(x: np.ndarray, power: int) -> tuple[np.ndarray, np.ndarray]:
    """x moved up to ≥ 10 by steps of 1, and the sum of the recurrence's terms 1/xᵖᵒʷᵉʳ it collected."""
    x, collected = x.copy(), np.zeros_like(x)
    for _ in range(10):
        low = x < 10
        collected[low] += 1 / x[low] ** power
        x[low] += 1
    return x, collected


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    x, collected = _shifted_up(x, 1)
    series = sum(b / (2 * k) / x ** (2 * k) for k, b in enumerate(_BERNOULLI, start=1))
    return np.log(x) - 0.5 / x - series - collected


def _trigamma_positive(x: np.ndarray) -> np.ndarray:
    x, collected = _shifted_up(x, 2)
    series = sum(b / x ** (2 * k + 1) for k, b in enumerate(_BERNOULLI, start=1))
    return 1 / x + 0.5 / x**2 + series + collected


def _with_reflection(x: np.ndarray, positive, reflect) -> np.ndarray:
    """f(x) for x > 0 directly, for x ≤ 0 through the reflection formula; nan at the poles."""
    out = np.full_like(x, np.nan)
    pos, neg = x > 0, (x <= 0) & (x != np.floor(x))
    out[pos] = positive(x[pos])
    out[neg] = reflect(x[neg], positive(1 - x[neg]))
    return out


@_on_host
def digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x) = Γ′(x)/Γ(x) elementwise (ψ(±0) = ∓inf, the side the pole is approached from, as PyTorch
    and SciPy; nan at the negative integers).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _with_reflection(x, _digamma_positive, lambda x, far: far - np.pi / np.tan(np.pi * x))
    zero = x == 0
    out[zero] = np.copysign(np.inf, -x[zero])
    return out


@_on_host
def trigamma(x: np.ndarray) -> np.ndarray:
    """ψ₁(x) = ψ′(x) elementwise (+inf at the poles)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _with_reflection(x, _trigamma_positive, lambda x, far: (np.pi / np.sin(np.pi * x)) ** 2 - far)
    out[(x <= 0) & (x == np.floor(x))] = np.inf  # ψ₁ → +∞ from both sides of a pole
    return out


class LGamma(Function):
    """y = ln |Γ(x)|          dx = dy · ψ(x)   (ψ = Γ′/Γ, the digamma function)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return lgamma(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * digamma(x)


class Digamma(Function):
    """y = ψ(x) = (ln Γ)′(x)          dx = dy · ψ₁(x)   (ψ₁ = ψ′, the trigamma function)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return digamma(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * trigamma(x)
