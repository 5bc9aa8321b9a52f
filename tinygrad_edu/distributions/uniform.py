"""Uniform(low, high): every value of [low, high) equally likely."""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..sampling import rand
from ..tensor import Tensor
from .distribution import Distribution, as_parameters


class Uniform(Distribution):
    """p(x) = 1 / (b − a) on [a, b), a = ``low``, b = ``high``;  log p = −ln(b − a) inside, −inf outside.

    mean (a + b)/2, variance (b − a)²/12, entropy ln(b − a); rsample: a + (b − a) u with u ~ U[0, 1).
    """

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = as_parameters(low, high)
        super().__init__(self.low.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        """(a + b) / 2."""
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        """(b − a)² / 12."""
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """a + (b − a) u, u ~ U[0, 1): differentiable in a and b."""
        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        """−ln(b − a) where a ≤ x < b, −inf elsewhere."""
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        """ln(b − a)."""
        return (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        """(x − a) / (b − a), clamped to [0, 1]."""
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)
