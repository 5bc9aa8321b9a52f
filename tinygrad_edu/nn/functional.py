"""The functional forms of the layers (``import tinygrad_edu.nn.functional as F``), as in PyTorch.

A layer (``nn.Linear``) owns its parameters and calls one of these (``F.linear(x, w, b)``) with
them. Where an op's backward teaches something it has its own Function in ops/ (softmax,
layer_norm, batch_norm, conv2d and the pools, the losses); the rest (linear, dropout, embedding,
attention) are short compositions of Tensor ops, whose gradients then come for free.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import no_grad
from ..device import to_device, xp_of
from ..errors import ShapeError
from ..ops.activation import GELU, LeakyReLU
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from ..ops.matmul import Linear
from ..ops.norm import BatchNorm, LayerNorm
from ..random import generator
from ..tensor import Tensor
from ..tensor_shape import where
from .functional_act import (
    celu,
    elu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from .functional_attention import additive_mask, attention, scaled_dot_product_attention
from .functional_conv import conv1d, conv2d, conv_transpose2d, fold, unfold
from .functional_loss import (
    cosine_embedding_loss,
    cosine_similarity,
    gaussian_nll_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    normalize,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    triplet_margin_loss,
)
from .functional_norm import dropout1d, dropout2d, dropout3d, group_norm, instance_norm
from .functional_pad import interpolate, pad, upsample
from .functional_pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)

# ---- activations --------------------------------------------------------------------------------


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0). ``inplace`` is accepted for PyTorch code; the result is always a new tensor."""
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope · x otherwise."""
    return LeakyReLU.apply(input, negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^−x)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh x."""
    return input.tanh()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x · Φ(x) (Φ the standard normal CDF); ``approximate="tanh"`` uses the tanh formula, as PyTorch."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def _softmax_dim(ndim: int, op: str) -> int:
    """PyTorch's old rule for a softmax without ``dim`` (0 for 0-, 1- and 3-D inputs, else 1), with its warning."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e^xᵢ / Σⱼ e^xⱼ along ``dim`` (each slice sums to 1)."""
    return input.softmax(_softmax_dim(input.ndim, "softmax") if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """xᵢ − log Σⱼ e^xⱼ along ``dim``: log-probabilities, computed without overflow."""
    return input.log_softmax(_softmax_dim(input.ndim, "log_softmax") if dim is None else dim)


# ---- linear, dropout, embedding -----------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features), as PyTorch stores it.

    One op (ops.matmul.Linear): dx = dy W, dW = dyᵀ x, db = Σ dy over the batch.
    """
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape}: the layer maps "
            f"in_features={weight.shape[1]} to out_features={weight.shape[0]}, so the input's last dim must be "
            f"{weight.shape[1]}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(
            f"linear: bias must have shape ({weight.shape[0]},) to match weight {weight.shape}, got {bias.shape}"
        )
    return Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1 − p).

    The scaling keeps the expected value of every element unchanged, so evaluation (``training=False``)
    is simply the identity. The mask comes from the library's seeded generator.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = generator().random(input.shape, dtype=np.float32) >= p  # True with probability 1 − p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor._wrap(to_device(mask, input.device))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer indices in ``input``: out[..., :] = weight[input[...], :].

    It is a Linear layer applied to one-hot vectors, done by indexing; its backward adds each dy
    row into the row it came from (scatter-add, since an index may repeat). Rows at ``padding_idx``
    receive no gradient.
    """
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor (e.g. idx.long()), got {input.dtype}")
    n = weight.shape[0]
    out_of_range = (input.array < 0) | (input.array >= n)
    if out_of_range.any():  # one scalar read on the device; the bad index is fetched only to name it
        bad = int(input.numpy()[to_device(out_of_range, "cpu")].flat[0])
        raise IndexError(f"embedding: index {bad} is out of range for a table of {n} rows (valid: 0..{n - 1})")
    rows = weight[input]
    if padding_idx is None:
        return rows
    is_pad = (input == (padding_idx % n)).unsqueeze(-1)
    return where(is_pad, rows.detach(), rows)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (...) → an int64 tensor (..., num_classes) with a single 1 per row.

    ``num_classes=-1`` takes the largest index + 1.
    """
    t = tensor.array
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects class indices (an integer tensor), got {t.dtype}")
    if num_classes == -1:
        if t.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    if t.size and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise IndexError(f"one_hot: class values must be in 0..{num_classes - 1}, found {int(t.min())}..{int(t.max())}")
    xp = xp_of(t)
    return Tensor._wrap((t[..., None] == xp.arange(num_classes)).astype(np.int64))


# ---- normalisation ------------------------------------------------------------------------------


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of x (N, C, ...), then scale by γ and shift by β.

    training=True: use this batch's mean and *biased* variance (ops.norm.BatchNorm), and update the
    running estimates in place with the batch mean and the *unbiased* variance:
        running = (1 − momentum) · running + momentum · batch_statistic
    training=False: use the running estimates, y = γ (x − running_mean) / √(running_var + ε) + β.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    c = input.shape[1]
    axes = (0, *range(2, input.ndim))
    per_channel = (c,) + (1,) * (input.ndim - 2)  # γ, β and the statistics broadcast along axis 1
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} has shape {t.shape}, but the input {input.shape} has {c} channels")
    w = None if weight is None else weight.reshape(per_channel)
    b = None if bias is None else bias.reshape(per_channel)
    if training:
        n = input.numel() // max(c, 1)
        if n <= 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}"
            )
        if running_mean is not None and running_var is not None:
            x = input.array
            with no_grad():
                mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)
                running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * mean
                running_var.array[...] = (1 - momentum) * running_var.array + momentum * var
        return BatchNorm.apply(input, w, b, axes, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
    xp = xp_of(running_var.array)
    inv_std = Tensor._wrap((1 / xp.sqrt(running_var.array + eps)).reshape(per_channel))
    y = (input - running_mean.reshape(per_channel)) * inv_std
    if w is not None:
        y = y * w
    return y if b is None else y + b


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes of each sample, then scale and shift.

    y = γ · (x − μ) / √(σ² + ε) + β, with μ and σ² (biased) per sample (ops.norm.LayerNorm).
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.shape[input.ndim - k :] != shape or input.ndim < k:
        raise ShapeError(f"layer_norm: input of shape {input.shape} does not end with normalized_shape {shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ShapeError(f"layer_norm: {name} has shape {t.shape}, expected normalized_shape {shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return LayerNorm.apply(input, weight, bias, axes, eps)


__all__ = [
    "additive_mask",
    "attention",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "tanh",
]
__all__ += [  # the second wave (PyTorch's everyday surface), defined in functional_*.py
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "celu",
    "conv1d",
    "conv_transpose2d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "elu",
    "fold",
    "gaussian_nll_loss",
    "glu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "logsigmoid",
    "margin_ranking_loss",
    "max_pool1d",
    "max_unpool2d",
    "mish",
    "multilabel_soft_margin_loss",
    "normalize",
    "pad",
    "pairwise_distance",
    "poisson_nll_loss",
    "prelu",
    "relu6",
    "selu",
    "silu",
    "smooth_l1_loss",
    "softmin",
    "softplus",
    "softsign",
    "triplet_margin_loss",
    "unfold",
    "upsample",
]
__all__ += [  # the third wave: shrinks, channel dropout, group/instance norm
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "group_norm",
    "hardshrink",
    "instance_norm",
    "softshrink",
    "tanhshrink",
    "threshold",
]
