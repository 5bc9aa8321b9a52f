"""Activation layers: the nonlinearities between linear layers, as modules (no parameters).

Each one calls its functional form in ``nn.functional``; the math and the derivative live in
ops/elementwise.py (relu, leaky_relu, sigmoid, tanh, gelu) and ops/reduce.py (softmax).
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    """y = max(x, 0). ``inplace`` is accepted for PyTorch code; the result is always a new tensor."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """max(x, 0)."""
        return F.relu(input)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope · x otherwise (a small gradient keeps flowing for x < 0)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        """x or negative_slope · x."""
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """y = 1 / (1 + e^−x), squashing to (0, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        """σ(x)."""
        return F.sigmoid(input)


class Tanh(Module):
    """y = tanh x, squashing to (−1, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        """tanh x."""
        return F.tanh(input)


class GELU(Module):
    """y = x · Φ(x) (Φ the standard normal CDF), the activation of transformers; approximate="tanh" as PyTorch."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """x · Φ(x)."""
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """y = e^xᵢ / Σⱼ e^xⱼ along ``dim``: turns scores into probabilities that sum to 1.

    To train a classifier, feed the raw scores to CrossEntropyLoss instead (it applies
    log_softmax itself, more stably).
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """Probabilities along ``dim``."""
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = xᵢ − log Σⱼ e^xⱼ along ``dim``: log-probabilities, the input NLLLoss expects."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """Log-probabilities along ``dim``."""
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"dim={self.dim}"
