"""Categorical(probs or logits): one of K categories per draw."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..sampling import multinomial
from ..tensor import Tensor
from .distribution import Distribution


def clamp_probs(p: Tensor) -> Tensor:
    """p kept inside [eps, 1 − eps], so that its logarithm is finite (PyTorch's clamp_probs)."""
    eps = float(np.finfo(p.dtype).eps)
    return p.clamp(eps, 1 - eps)


class Categorical(Distribution):
    """P(X = k) = pₖ, k = 0 … K − 1, from ``probs`` (normalised: p / Σp) or ``logits`` (p = softmax(logits)).

    The last dim indexes the categories; the dims before it are the batch. log_prob(k) = log pₖ,
    entropy −Σ pₖ log pₖ. ``logits`` are stored normalised: logits − logsumexp(logits) = log p.
    """

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:  # fmt: skip
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = clamp_probs(self.probs).log()
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1], (), validate_args)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """batch_shape + (K,)."""
        return self.probs.shape

    @property
    def mean(self) -> Tensor:
        """Undefined for categories: nan, as PyTorch."""
        return Tensor(np.full(self.batch_shape, np.nan, dtype=self.probs.dtype))

    @property
    def variance(self) -> Tensor:
        """Undefined for categories: nan, as PyTorch."""
        return Tensor(np.full(self.batch_shape, np.nan, dtype=self.probs.dtype))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Category indices (int64) of shape sample_shape + batch_shape."""
        shape = self._extended_shape(sample_shape)
        n = int(np.prod(shape[: len(shape) - len(self.batch_shape)]))
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            draws = multinomial(rows, n, True)  # (batch, n)
        return draws.t().reshape(*shape)

    def log_prob(self, value: Any) -> Tensor:
        """log p[value]: the normalised logit of each drawn category."""
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=np.int64))
        shape = np.broadcast_shapes(value.shape, self.batch_shape)
        logits = self.logits.expand(*shape, self._num_events)
        index = value.long().expand(*shape).unsqueeze(-1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """−Σₖ pₖ log pₖ (a logit of −inf, a category that never occurs, adds 0)."""
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0 … K − 1 along a new first dim (expanded over the batch unless expand=False)."""
        values = Tensor(np.arange(self._num_events, dtype=np.int64)).reshape(-1, *(1,) * len(self.batch_shape))
        return values.expand(self._num_events, *self.batch_shape) if expand else values
