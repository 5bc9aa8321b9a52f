"""The other activation layers, as modules around nn.functional (the math is in ops/activation_extra.py).

Each holds its settings and calls its functional form; ``inplace`` is accepted for PyTorch code (the
result is always a new tensor). PReLU is the one with a parameter: its negative slope is learned.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init as _init
from .module import Module
from .parameter import Parameter


class _Inplace(Module):
    """An activation whose only setting is ``inplace``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """y = x (x > 0), α(eˣ − 1) (x ≤ 0): smooth for negative inputs, saturating at −α."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        """elu(x, α)."""
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """y = max(0, x) + min(0, α(e^{x/α} − 1)): ELU made continuously differentiable for every α."""

    def forward(self, input: Tensor) -> Tensor:
        """celu(x, α)."""
        return F.celu(input, self.alpha)


class SELU(_Inplace):
    """y = scale · elu(x, α), α ≈ 1.6733, scale ≈ 1.0507: keeps activations near mean 0, variance 1."""

    def forward(self, input: Tensor) -> Tensor:
        """selu(x)."""
        return F.selu(input)


class SiLU(_Inplace):
    """y = x σ(x) (also called swish)."""

    def forward(self, input: Tensor) -> Tensor:
        """x σ(x)."""
        return F.silu(input)


class Mish(_Inplace):
    """y = x tanh(softplus(x))."""

    def forward(self, input: Tensor) -> Tensor:
        """x tanh(log(1 + eˣ))."""
        return F.mish(input)


class Hardsigmoid(_Inplace):
    """y = clamp(x/6 + 1/2, 0, 1): a piecewise-linear sigmoid."""

    def forward(self, input: Tensor) -> Tensor:
        """clamp(x/6 + 1/2, 0, 1)."""
        return F.hardsigmoid(input)


class Hardswish(_Inplace):
    """y = x · relu6(x + 3) / 6: a piecewise version of x σ(x)."""

    def forward(self, input: Tensor) -> Tensor:
        """x · relu6(x + 3) / 6."""
        return F.hardswish(input)


class ReLU6(_Inplace):
    """y = min(max(x, 0), 6)."""

    def forward(self, input: Tensor) -> Tensor:
        """clamp(x, 0, 6)."""
        return F.relu6(input)


class Hardtanh(Module):
    """y = clamp(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        """clamp(x, min_val, max_val)."""
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """y = (1/β) log(1 + e^{βx}), a smooth relu; x itself where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        """softplus(x, β, threshold)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """y = log σ(x) = −softplus(−x), without overflow."""

    def forward(self, input: Tensor) -> Tensor:
        """log σ(x)."""
        return F.logsigmoid(input)


class Softsign(Module):
    """y = x / (1 + |x|)."""

    def forward(self, input: Tensor) -> Tensor:
        """x / (1 + |x|)."""
        return F.softsign(input)


class Tanhshrink(Module):
    """y = x − tanh x."""

    def forward(self, input: Tensor) -> Tensor:
        """x − tanh x."""
        return F.tanhshrink(input)


class Softshrink(Module):
    """y = x − λ (x > λ), x + λ (x < −λ), 0 otherwise."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        """softshrink(x, λ)."""
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return str(self.lambd)


class Hardshrink(Softshrink):
    """y = x where |x| > λ, 0 otherwise."""

    def forward(self, input: Tensor) -> Tensor:
        """hardshrink(x, λ)."""
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """y = x where x > threshold, ``value`` otherwise."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        """threshold(x, threshold, value)."""
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """y = a ⊙ σ(b), a and b the two halves of x along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """glu(x, dim)."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"dim={self.dim}"


class Softmin(Module):
    """y = softmax(−x) along ``dim``: the smallest entries get the largest probabilities."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """softmax(−x, dim)."""
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"dim={self.dim}"


class PReLU(Module):
    """y = x (x ≥ 0), a·x (x < 0) with the slope a learned: one per channel (dim 1), or one shared.

    ``num_parameters`` is 1 (one slope for all channels) or the number of channels; every slope
    starts at ``init`` (0.25), as PyTorch.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full(num_parameters, init, dtype=np.float32))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        _init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        """prelu(x, a)."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"num_parameters={self.num_parameters}"
