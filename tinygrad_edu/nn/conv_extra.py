"""Conv1d and the transposed convolutions ConvTranspose1d/2d (the math: nn/functional_conv.py, ops/conv_extra.py).

Conv1d slides F filters of shape (C/groups, K) along sequences (N, C, L): L_out = ⌊(L + 2p − d(K − 1) − 1)/s⌋ + 1.
A transposed convolution is the adjoint (the backward-to-input) of a convolution: each input pixel
stamps a copy of the kernel onto the output, so it *upsamples*:
H_out = (H − 1)·s − 2p + d(K − 1) + output_padding + 1. Its weight is (C_in, C_out/groups, K...), as PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .conv import _pair
from .module import Module
from .parameter import Parameter


def _single(value: Any) -> tuple[int]:
    return (int(value[0]),) if isinstance(value, tuple | list) else (int(value),)


class Conv1d(Module):
    """1-D convolution: ``weight`` (out_channels, in_channels/groups, K) and ``bias`` (out_channels,).

    Initialised as PyTorch: W and b ~ U(±1/√fan_in), fan_in = (in_channels/groups)·K. ``padding``
    may be an int, "valid" or "same"; ``padding_mode`` "zeros", "reflect", "replicate" or "circular".
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] | str = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv1d: in_channels {in_channels} and out_channels {out_channels} must divide by groups {groups}"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"Conv1d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = _single(kernel_size), _single(stride), _single(dilation)
        if padding == "same" and self.stride != (1,):
            raise ValueError("Conv1d: padding='same' is not supported for strided convolutions")
        self.padding = padding if isinstance(padding, str) else _single(padding)
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh initial values: PyTorch's defaults (see init.default_)."""
        init.default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """x (N, in_channels, L) → (N, out_channels, L_out)."""
        if input.ndim == 3 and input.shape[1] != self.in_channels:
            raise RuntimeError(
                f"Conv1d({self.in_channels}, {self.out_channels}): input of shape {input.shape} has "
                f"{input.shape[1]} channels in dim 1, expected in_channels={self.in_channels}"
            )
        if self.padding_mode == "zeros" or self.padding == "valid":
            return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if self.padding == "same":  # total d·(K − 1), the extra one after
            total = self.dilation[0] * (self.kernel_size[0] - 1)
            left, right = total // 2, total - total // 2
        else:
            left = right = self.padding[0]
        input = F.pad(input, (left, right), mode=self.padding_mode)
        return F.conv1d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s if self.bias is not None else s + ", bias=False"


class ConvTranspose2d(Module):
    """Transposed 2-D convolution (the adjoint of Conv2d): ``weight`` (in_channels, out_channels/groups, KH, KW).

    Each input pixel adds weight[c] · x[c, h, w] into the output window at (h·s, w·s); so with stride 2
    it doubles H and W (a learned upsampling, as in decoders and GAN generators). ``output_padding`` adds
    rows/columns at the end to pick among the input sizes that a strided Conv2d maps to the same size.
    Initialised as PyTorch: U(±1/√fan_in) with fan_in = (out_channels/groups)·KH·KW (weight.size(1)·K).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{type(self).__name__}: in_channels {in_channels} and out_channels {out_channels} must divide by "
                f"groups {groups}"
            )
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding = self._n(kernel_size), self._n(stride), self._n(padding)
        self.output_padding, self.dilation, self.padding_mode = self._n(output_padding), self._n(dilation), padding_mode
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(
                    f"{type(self).__name__}: output_padding {self.output_padding} must be smaller than either "
                    f"stride {self.stride} or dilation {self.dilation}"
                )
        self.weight = Parameter(np.empty((in_channels, out_channels // groups, *self.kernel_size), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @staticmethod
    def _n(value: Any) -> tuple[int, ...]:
        return _pair(value)

    def reset_parameters(self) -> None:
        """Draw fresh initial values: PyTorch's defaults (see init.default_)."""
        init.default_(self.weight, self.bias)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """output_padding, or the one that gives ``output_size`` (PyTorch's forward(input, output_size))."""
        if output_size is None:
            return self.output_padding
        k = len(self.kernel_size)
        wanted = tuple(output_size)[-k:]
        extra = []
        for n, want, s, p, d, kk in zip(input.shape[-k:], wanted, self.stride, self.padding, self.dilation,
                                        self.kernel_size):  # fmt: skip
            smallest = (n - 1) * s - 2 * p + d * (kk - 1) + 1
            if not 0 <= want - smallest < max(s, d):
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {wanted}, but valid sizes range from "
                    f"{smallest} to {smallest + max(s, d) - 1} (for an input of {input.shape[-k:]})"
                )
            extra.append(want - smallest)
        return tuple(extra)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """x (N, in_channels, H, W) → (N, out_channels, H_out, W_out)."""
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
            self.groups, self.dilation,
        )  # fmt: skip

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        zeros = (0,) * len(self.kernel_size)
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:
            s += f", padding={self.padding}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * len(self.kernel_size):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s if self.bias is not None else s + ", bias=False"


class ConvTranspose1d(ConvTranspose2d):
    """Transposed 1-D convolution: ``weight`` (in_channels, out_channels/groups, K); x (N, C, L) → (N, C', L_out).

    Computed as ConvTranspose2d on images of height 1.
    """

    @staticmethod
    def _n(value: Any) -> tuple[int, ...]:
        return _single(value)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """x (N, in_channels, L) → (N, out_channels, L_out)."""
        if input.ndim not in (2, 3):
            raise RuntimeError(f"ConvTranspose1d: expected a 2-D or 3-D input, got shape {input.shape}")
        batched = input.ndim == 3
        x = (input if batched else input.unsqueeze(0)).unsqueeze(2)
        (op,) = self._output_padding(input, output_size)
        y = F.conv_transpose2d(
            x, self.weight.unsqueeze(2), self.bias, (1, *self.stride), (0, *self.padding), (0, op), self.groups,
            (1, *self.dilation),
        ).squeeze(2)  # fmt: skip
        return y if batched else y.squeeze(0)
