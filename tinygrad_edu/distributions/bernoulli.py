"""Bernoulli(probs or logits): 1 with probability p, else 0."""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..nn import functional as F
from ..sampling import bernoulli
from ..tensor import Tensor
from .categorical import clamp_probs
from .distribution import Distribution, as_parameters


class Bernoulli(Distribution):
    """P(X = 1) = p, P(X = 0) = 1 − p; from ``probs`` p or ``logits`` ℓ = log(p / (1 − p)) (p = σ(ℓ)).

    log p(x) = x log p + (1 − x) log(1 − p) = −BCE-with-logits(ℓ, x); entropy −p log p − (1 − p) log(1 − p);
    mean p, variance p (1 − p).
    """

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = as_parameters(probs)
            p = clamp_probs(self.probs)
            self.logits = p.log() - (-p).log1p()
        else:
            (self.logits,) = as_parameters(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        """p."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """p (1 − p)."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """0.0 / 1.0 draws of shape sample_shape + batch_shape (float, as PyTorch)."""
        with no_grad():
            return bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        """x log p + (1 − x) log(1 − p), computed stably from the logits."""
        (logits, value) = as_parameters(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        """−p log p − (1 − p) log(1 − p)."""
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
