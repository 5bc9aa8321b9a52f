"""group_norm, instance_norm and channel dropout (dropout1d/2d/3d), with PyTorch's signatures.

GroupNorm and InstanceNorm are the same standardisation as LayerNorm, over other axes, so they reuse its
Function (ops/norm.py: y = γ x̂ + β with the written-out backward):

    group_norm      x (N, C, *S) seen as (N, G, C/G, *S), standardised over (C/G, *S): one μ, σ² per sample and group
    instance_norm   x (N, C, *S), standardised over S: one μ, σ² per sample and channel (group_norm with G = C)

γ and β are per channel (C,), viewed so they broadcast along the channel axis.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import no_grad
from ..device import to_device
from ..ops.norm import LayerNorm
from ..random import generator
from ..tensor import Tensor


def group_norm(
    input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Standardise each of ``num_groups`` channel groups of every sample, then y = γ x̂ + β per channel."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, ...), got {input.shape}")
    n, c, *spatial = input.shape
    if num_groups < 1 or c % num_groups:
        raise RuntimeError(
            f"group_norm: expected the number of channels {c} to be divisible by num_groups {num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise RuntimeError(f"group_norm: {name} has shape {t.shape}, but the input {input.shape} has {c} channels")
    grouped = (n, num_groups, c // num_groups, *spatial)
    per_channel = (num_groups, c // num_groups) + (1,) * len(spatial)
    w = None if weight is None else weight.reshape(per_channel)
    b = None if bias is None else bias.reshape(per_channel)
    axes = tuple(range(2, len(grouped)))
    return LayerNorm.apply(input.reshape(grouped), w, b, axes, eps).reshape(input.shape)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Standardise each channel of each sample over its spatial dims, then y = γ x̂ + β per channel.

    With ``use_input_stats`` (the default) the statistics come from the input, and running estimates, if
    given, are updated in place as PyTorch does: running ← (1 − momentum) · running + momentum · (the
    batch mean of the per-instance mean, resp. *unbiased* variance). Without it the running ones are used.
    """
    if input.ndim < 3:
        raise RuntimeError(f"instance_norm: expected an input of shape (N, C, L) or (N, C, H, W), got {input.shape}")
    c = input.shape[1]
    per_channel = (c,) + (1,) * (input.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise RuntimeError(
                f"instance_norm: {name} has shape {t.shape}, but the input {input.shape} has {c} channels"
            )
    w = None if weight is None else weight.reshape(per_channel)
    b = None if bias is None else bias.reshape(per_channel)
    spatial = tuple(range(2, input.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: use_input_stats=False needs running_mean and running_var")
        y = (input - running_mean.reshape(per_channel)) / (running_var.reshape(per_channel) + eps).sqrt()
        y = y if w is None else y * w
        return y if b is None else y + b
    if int(np.prod(input.shape[2:])) <= 1:
        raise RuntimeError(f"instance_norm: expected more than 1 spatial element when training, got {input.shape}")
    if running_mean is not None and running_var is not None:
        with no_grad():
            x = input.array
            mean, var = x.mean(axis=spatial).mean(axis=0), x.var(axis=spatial, ddof=1).mean(axis=0)
            running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * mean
            running_var.array[...] = (1 - momentum) * running_var.array + momentum * var
    return LayerNorm.apply(input, w, b, spatial, eps)


_NOT_CHANNELS = (
    "{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an error in a future release. "
    "To retain the behavior and silence this warning, please use dropout instead. Note that {op} exists to provide "
    "channel-wise dropout on inputs with {dims} spatial dimensions, a channel dimension, and an optional batch "
    "dimension (i.e. {io} inputs)."
)
_DROPOUT2D_OF_3D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - "
    "input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future "
    "release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
    "channel-wise dropout behavior, please switch to using dropout1d instead."
)


def _feature_dropout(input: Tensor, p: float, training: bool) -> Tensor:
    """Zero whole channels: one keep/drop draw per (sample, channel), the survivors scaled by 1/(1 − p).

    x (N, C, *S): the mask has shape (N, C, 1, ..., 1) (PyTorch's feature_dropout; for x (N, C) that is
    elementwise dropout).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got {input.shape}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    keep = generator().random(mask_shape, dtype=np.float32) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor._wrap(to_device(mask, input.device))


def _unbatched_feature_dropout(input: Tensor, p: float, training: bool) -> Tensor:
    """An input without its batch dim (C, *S): feature dropout of (1, C, *S), the batch dim removed again."""
    if not training or p == 0.0:
        return input
    return _feature_dropout(input.unsqueeze(0), p, training).squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, L) or (C, L): each channel kept whole or zeroed, with probability p."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    if input.ndim == 2:
        return _unbatched_feature_dropout(input, p, training)
    return _feature_dropout(input, p, training)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, H, W): each feature map kept whole or zeroed, with probability p.

    Neighbouring pixels of a feature map are strongly correlated, so dropping pixels one by one
    hardly regularises a convolution; dropping the whole map does (Tompson et al., 2015).
    PyTorch's deprecated behaviour is kept, with its warnings: another rank drops along dims 0 and 1 (a 2-D input
    (N, C) elementwise), and a 3-D input is read as (N, C, L), not as an unbatched (C, H, W).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        warnings.warn(_NOT_CHANNELS.format(op="dropout2d", ndim=input.ndim, dims="2", io="3D or 4D"), stacklevel=2)
    if input.ndim == 3:
        warnings.warn(_DROPOUT2D_OF_3D, stacklevel=2)
    return _feature_dropout(input, p, training)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W).

    Another rank warns (PyTorch's deprecated behaviour) and is read as unbatched: dim 0 its channels.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (4, 5):
        warnings.warn(_NOT_CHANNELS.format(op="dropout3d", ndim=input.ndim, dims="3", io="4D or 5D"), stacklevel=2)
    if input.ndim != 5:
        return _unbatched_feature_dropout(input, p, training)
    return _feature_dropout(input, p, training)
