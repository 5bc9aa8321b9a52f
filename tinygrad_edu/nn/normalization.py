"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm (the math is in ops/norm.py).

BatchNorm standardises each channel over the batch: in training with this batch's statistics
(and it updates running estimates of them), in evaluation with those running estimates, so a
single example gets a deterministic output. LayerNorm standardises each sample over its own
features, the same way in training and evaluation.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def add_channel_state(
    module: Module, num_features: int, affine: bool, bias: bool, track_running_stats: bool
) -> None:  # fmt: skip
    """Give a per-channel normalisation layer PyTorch's parameters and buffers, all of length ``num_features``.

    ``affine``: ``weight`` γ (ones) and ``bias`` β (zeros; None with ``bias=False``), else both None.
    ``track_running_stats``: buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (0), else all three None, so that state dicts have PyTorch's keys either way.
    """
    if affine:
        module.weight = Parameter(np.ones(num_features, dtype=np.float32))
        if bias:
            module.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    if track_running_stats:
        module.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=np.float32)))
        module.register_buffer("running_var", Tensor(np.ones(num_features, dtype=np.float32)))
        module.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
    else:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            module.register_buffer(name, None)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes they accept.

    Parameters: ``weight`` (γ, ones) and ``bias`` (β, zeros) when ``affine`` (``bias=False``: γ only). Buffers:
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` when
    ``track_running_stats``. ``momentum=None`` makes the running statistics a plain cumulative
    average over the batches seen.
    """

    expected_dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        add_channel_state(self, num_features, affine, bias, track_running_stats)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Forget the running statistics: mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Running statistics reset; γ = 1, β = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self.expected_dims:
            wanted = " or ".join(f"{d}D" for d in self.expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {wanted} input (got {input.ndim}D input {input.shape})")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input of shape {input.shape} has "
                f"{input.shape[1]} channels in dim 1, expected {self.num_features}"
            )

    def forward(self, input: Tensor) -> Tensor:
        """Batch statistics in training (updating the running ones), running statistics in evaluation."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average: the k-th batch gets weight 1/k
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, one mean and variance per channel C.

    y = γ (x − μ) / √(σ² + ε) + β, μ and σ² over N (and L): from the batch in training, from the
    running estimates (momentum 0.1) in evaluation. PyTorch's semantics exactly.
    """

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, one mean and variance per channel over N, H and W.

    y = γ (x − μ) / √(σ² + ε) + β: batch statistics in training, running estimates in evaluation.
    """

    expected_dims = (4,)


class LayerNorm(Module):
    """Standardise each sample over its last dims (``normalized_shape``), then scale by γ and shift by β.

    ``LayerNorm(64)`` normalises the last dim of (..., 64). γ starts at ones and β at zeros;
    ``elementwise_affine=False`` leaves them out, ``bias=False`` leaves out β only.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(shape, dtype=np.float32))
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
        """Each sample standardised over the normalized dims."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
