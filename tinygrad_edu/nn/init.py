"""Weight initialisation (``nn.init``), with PyTorch's names, formulas and defaults.

Why it matters: a layer y = W x with fan_in inputs multiplies the variance of x by about
fan_in · Var(W). Keeping that factor near 1 (divided by what the activation removes) keeps the
signal from vanishing or exploding through many layers:

    xavier (Glorot):  Var(W) = gain² · 2 / (fan_in + fan_out)     (balances forward and backward)
    kaiming (He):     Var(W) = gain² / fan                        (fan = fan_in or fan_out)

A uniform U(−b, b) has variance b²/3, hence the √3 in the bounds below. Every function works in
place under ``no_grad``, draws from the library's seeded generator and returns the tensor.
"""

from __future__ import annotations

import math

from ..autograd import no_grad
from ..tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain for an activation: how much it shrinks the variance, undone by scaling the weights.

    linear, conv, sigmoid: 1;  tanh: 5/3;  relu: √2;  leaky_relu(a): √(2 / (1 + a²));  selu: 3/4.
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in, fan_out of a weight (out, in, *kernel): in · prod(kernel) and out · prod(kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out cannot be computed for a tensor with fewer than 2 dims (shape {tensor.shape})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@no_grad()
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b)."""
    return tensor.uniform_(a, b)


@no_grad()
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    return tensor.normal_(mean, std)


@no_grad()
def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with one value."""
    return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(−b, b) with b = gain · √(6 / (fan_in + fan_out))  (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """U(−b, b) with b = √3 · gain / √fan  (He et al., 2015); ``a`` is the leaky_relu slope.

    PyTorch's default for Linear and Conv2d weights is a = √5, which gives gain = √(1/3) and so
    b = 1/√fan_in.
    """
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std²) with std = gain / √fan  (He et al., 2015)."""
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def default_(weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """PyTorch's default initialisation of Linear and Conv2d: weight and bias both U(−1/√fan_in, 1/√fan_in).

    PyTorch writes the weight's part as ``kaiming_uniform_(weight, a=√5)``: the leaky-ReLU gain for
    a = √5 is √(2 / (1 + 5)) = 1/√3 and kaiming-uniform's bound is gain·√(3 / fan_in), which is
    1/√fan_in. The bias is drawn from the same range. (fan_in = in_features, or C·KH·KW for a conv.)
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
    return weight


__all__ = [
    "calculate_gain",
    "constant_",
    "default_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
