"""Normal(loc, scale): the Gaussian N(μ, σ²)."""

from __future__ import annotations

import math
from typing import Any

from ..autograd import no_grad
from ..sampling import randn
from ..tensor import Tensor
from .distribution import Distribution, as_parameters


class Normal(Distribution):
    """p(x) = exp(−(x − μ)² / (2σ²)) / (σ √(2π)), μ = ``loc``, σ = ``scale`` (numbers or tensors, broadcast).

    log p(x) = −(x − μ)² / (2σ²) − ln σ − ½ ln 2π;  entropy ½ + ½ ln 2π + ln σ;
    rsample: x = μ + σ ε with ε ~ N(0, 1), the reparameterisation that lets gradients reach μ and σ.
    """

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = as_parameters(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        """μ."""
        return self.loc

    @property
    def stddev(self) -> Tensor:
        """σ."""
        return self.scale

    @property
    def variance(self) -> Tensor:
        """σ²."""
        return self.scale**2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """μ + σ ε, ε ~ N(0, 1): differentiable in μ and σ."""
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        """−(x − μ)² / (2σ²) − ln σ − ½ ln 2π."""
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self) -> Tensor:
        """½ + ½ ln 2π + ln σ."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        """P(X ≤ x) = ½ (1 + erf((x − μ) / (σ √2)))."""
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())
