"""GroupNorm and InstanceNorm1d/2d (the math: nn/functional_norm.py, ops/norm.py).

GroupNorm splits the C channels into G groups and standardises each group of each sample on its
own, so it does not depend on the batch size (good for small batches): G = 1 is a LayerNorm over
(C, H, W), G = C an InstanceNorm. InstanceNorm standardises every channel of every sample over its
spatial dims (style transfer); unlike BatchNorm it has no affine part and no running statistics by default.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .normalization import add_channel_state
from .parameter import Parameter


class GroupNorm(Module):
    """y = γ (x − μ_g) / √(σ_g² + ε) + β, μ_g and σ_g² over each group of C/G channels (and H, W) per sample.

    γ (ones) and β (zeros) are per channel, shape (num_channels,), when ``affine`` (``bias=False``: γ only).
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, *, bias: bool = True
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by num_groups {num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_channels, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """x (N, C, *) standardised per sample and group."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(Module):
    """What InstanceNorm1d and InstanceNorm2d share; they differ only in the input dims they accept.

    ``affine`` adds γ (ones) and β (zeros, unless ``bias=False``) per channel; ``track_running_stats``
    keeps running estimates (like BatchNorm's, momentum-weighted), used in evaluation; as PyTorch,
    num_batches_tracked is kept in the state dict but not counted.
    """

    spatial_dims = 0

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        add_channel_state(self, num_features, affine, bias, track_running_stats)

    def forward(self, input: Tensor) -> Tensor:
        """Each channel of each sample standardised over its spatial dims."""
        d = self.spatial_dims
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(
                f"{type(self).__name__}: expected {d + 1}D (unbatched) or {d + 2}D input (got {input.ndim}D input)"
            )
        batched = input.ndim == d + 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input of shape {input.shape} has {x.shape[1]} "
                f"channels, expected {self.num_features}"
            )
        use_input_stats = self.training or not self.track_running_stats
        y = F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, self.momentum, self.eps
        )
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L): one μ, σ² per sample and channel, over L."""

    spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W): one μ, σ² per sample and channel, over H and W."""

    spatial_dims = 2
