"""Multinomial(total_count, probs or logits): how often each of K categories comes up in n draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .categorical import Categorical
from .distribution import Distribution


class Multinomial(Distribution):
    """Counts x = (x₁ … x_K), Σ xₖ = n, of n independent draws from Categorical(p):

    P(x) = n! / (x₁! ⋯ x_K!) · Π pₖ^xₖ,  log P(x) = ln Γ(n + 1) − Σ ln Γ(xₖ + 1) + Σ xₖ log pₖ;
    mean n p, variance n p (1 − p). The event is the vector of K counts (event_shape (K,)); ``sample`` gives
    float counts, as PyTorch.
    """

    def __init__(self, total_count: int = 1, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:  # fmt: skip
        if not isinstance(total_count, int):
            # PyTorch's own error, word for word:
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:], validate_args)

    @property
    def probs(self) -> Tensor:
        """p, normalised."""
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        """log p."""
        return self._categorical.logits

    @property
    def mean(self) -> Tensor:
        """n p."""
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        """n p (1 − p)."""
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts of shape sample_shape + batch_shape + (K,): n categorical draws, tallied."""
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        draws = self._categorical.sample((self.total_count, *sample_shape)).numpy()  # (n, *S, *B)
        k = self.event_shape[0]
        counts = (draws[..., None] == np.arange(k)).sum(axis=0)
        return Tensor(counts.astype(self.probs.dtype))

    def log_prob(self, value: Any) -> Tensor:
        """ln Γ(n + 1) − Σ ln Γ(xₖ + 1) + Σ xₖ log pₖ (a category with p = 0 and x = 0 adds 0, not 0 · −inf)."""
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=self.probs.dtype))
        value = value.to(self.logits.dtype)
        logits = self.logits.expand(*np.broadcast_shapes(value.shape, self.logits.shape))
        logits = logits.masked_fill((value == 0) & (logits == float("-inf")), 0.0)
        log_powers = (logits * value).sum(-1)
        return (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1) + log_powers
