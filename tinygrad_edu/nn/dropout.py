"""Dropout: randomly silence units while training, so the network cannot lean on any single one."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the others by 1/(1 − p).

    The scaling keeps every element's expected value, so in evaluation (``model.eval()``) the
    layer is the identity and needs no correction. Masks come from the library's seeded
    generator (``tge.manual_seed``).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        """x · mask / (1 − p) in training, x in evaluation."""
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Dropout):
    """Channel dropout: whole channels zeroed, one draw per (sample, channel)."""

    functional = staticmethod(F.dropout2d)

    def forward(self, input: Tensor) -> Tensor:
        """x · mask / (1 − p) with one mask value per channel in training, x in evaluation."""
        return type(self).functional(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) with probability p (scaling the kept ones by 1/(1 − p))."""

    functional = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) with probability p (scaling the kept ones by 1/(1 − p)).

    Neighbouring pixels are correlated, so after a convolution this regularises where element-wise
    Dropout hardly does (Tompson et al., 2015).
    """

    functional = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) with probability p."""

    functional = staticmethod(F.dropout3d)
