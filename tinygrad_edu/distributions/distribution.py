"""The base class: a batch of distributions over events of a shape, PyTorch's vocabulary.

``batch_shape`` is how many independent distributions (one per parameter entry), ``event_shape`` the shape of
one draw (() for a number, (K,) for Multinomial's counts). ``sample(sample_shape)`` returns
sample_shape + batch_shape + event_shape.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from ..tensor import Tensor


def as_parameters(*values: Any) -> tuple[Tensor, ...]:
    """Numbers and tensors as float tensors broadcast to one shape (PyTorch's broadcast_all)."""
    like = next((v for v in values if isinstance(v, Tensor) and v.dtype.kind == "f"), None)
    dtype = like.dtype if like is not None else np.float32
    tensors = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=dtype)) for v in values]
    tensors = [t if t.dtype.kind == "f" else t.float() for t in tensors]
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else t.expand(*shape) for t in tensors)


class Distribution(abc.ABC):
    """A batch of probability distributions: sample, log_prob, mean, variance, entropy."""

    has_rsample = False

    def __init__(self, batch_shape: tuple[int, ...] = (), event_shape: tuple[int, ...] = (),
                 validate_args: bool | None = None) -> None:  # fmt: skip
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The shape of the batch of independent distributions."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one draw."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> tuple[int, ...]:
        """sample_shape + batch_shape + event_shape: the shape ``sample(sample_shape)`` returns."""
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        return sample_shape + self._batch_shape + self._event_shape

    @abc.abstractmethod
    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws of shape sample_shape + batch_shape + event_shape (no gradient)."""

    @abc.abstractmethod
    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value), or log density, per distribution in the batch."""

    @property
    def stddev(self) -> Tensor:
        """√variance."""
        return self.variance.sqrt()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"
