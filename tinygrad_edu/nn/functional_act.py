"""The activations of nn.functional beyond relu/sigmoid/tanh/gelu, with PyTorch's signatures.

The elementwise ones are Functions in ops/activation_extra.py; glu, softmin and prelu are short
compositions. ``inplace`` is accepted for PyTorch code; the result is always a new tensor.
"""

from __future__ import annotations

from ..ops import activation_extra as _act
from ..tensor import Tensor
from ..tensor_shape import where


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x (x > 0), α(eˣ − 1) (x ≤ 0)."""
    return _act.ELU.apply(input, alpha, 1.0, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^{x/α} − 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _act.ELU.apply(input, alpha, 1.0, alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, α) with Klambauer et al.'s α ≈ 1.6733, scale ≈ 1.0507 (self-normalising)."""
    return _act.ELU.apply(input, _act.SELU_ALPHA, _act.SELU_SCALE, 1.0)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β) log(1 + e^{βx}), x itself where βx > threshold."""
    return _act.Softplus.apply(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x), computed without overflow."""
    return _act.LogSigmoid.apply(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    return _act.Hardtanh.apply(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return _act.Hardtanh.apply(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clamp(x/6 + 1/2, 0, 1)."""
    return _act.Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6."""
    return _act.Hardswish.apply(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x σ(x)."""
    return _act.SiLU.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return _act.Mish.apply(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _act.Softsign.apply(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a ⊙ σ(b), where a and b are the two halves of x along ``dim`` (gated linear unit)."""
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    a, b = input.chunk(2, dim=dim)
    return a * b.sigmoid()


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    """softmax(−x) along ``dim``: small entries get the large probabilities."""
    from .functional import softmax

    return softmax(-input, dim)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x (x ≥ 0), a·x (x < 0), with a learned slope per channel (weight (C,) or (1,)); channels on dim 1."""
    if weight.ndim != 1 or (weight.shape[0] != 1 and (input.ndim < 2 or input.shape[1] != weight.shape[0])):
        raise RuntimeError(f"prelu: weight {weight.shape} must have 1 or input.shape[1] elements, input {input.shape}")
    a = weight.reshape(-1, *([1] * (input.ndim - 2))) if input.ndim >= 2 and weight.shape[0] > 1 else weight
    return where(input >= 0, input, input * a)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh x (a composition: its derivative tanh² x follows from tanh's)."""
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ (x > λ), x + λ (x < −λ), 0 in between."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, 0 elsewhere."""
    return where(input.abs() > lambd, input, 0.0)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, ``value`` elsewhere."""
    return where(input > threshold, input, float(value))
