"""Layers on images: Conv2d and the pools MaxPool2d, AvgPool2d (the math is in ops/conv.py).

Images are (N, C, H, W). A convolution slides F filters of shape (C, KH, KW) over the image
and gives (N, F, OH, OW), OH = (H + 2·padding − KH) // stride + 1; a pool keeps the max or
the mean of each window, channel by channel, and learns nothing.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

IntOrPair = int | tuple[int, int]


def _pair(value: IntOrPair) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple | list) else (value, value)  # type: ignore[return-value]


class Conv2d(Module):
    """2-D convolution: ``weight`` (out_channels, in_channels, KH, KW) and ``bias`` (out_channels,).

    ``stride`` and ``padding`` are an int or a pair (along H, along W); ``padding`` may also be
    "valid" (no padding) or "same" (output as large as the input: stride 1 and odd kernels only).
    Initialised as PyTorch: kaiming_uniform_(a=√5), so W ~ U(±1/√fan_in) with fan_in = C·KH·KW,
    and the bias from the same range.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: IntOrPair | str = 0,
        dilation: IntOrPair = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels {in_channels} and out_channels {out_channels} must divide by groups {groups}"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"Conv2d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got {padding_mode!r}"
            )
        self.dilation, self.groups, self.padding_mode = _pair(dilation), groups, padding_mode
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self._padding = self._numeric_padding()
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _numeric_padding(self) -> tuple[int, int]:
        """Padding "valid" → (0, 0); "same" → (KH // 2, KW // 2), which keeps H and W for odd kernels at stride 1."""
        if not isinstance(self.padding, str):
            return self.padding
        if self.padding in ("valid", "same"):
            if self.padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
            return self.padding  # F.conv2d works it out (asymmetric for even kernels)
        raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {self.padding!r}")

    def reset_parameters(self) -> None:
        """Draw fresh initial values: PyTorch's defaults (see init.default_)."""
        init.default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """x (N, in_channels, H, W) → (N, out_channels, OH, OW)."""
        if input.ndim == 4 and input.shape[1] != self.in_channels and not getattr(self.weight, "is_lazy", False):
            raise ValueError(
                f"Conv2d({self.in_channels}, {self.out_channels}): input of shape {input.shape} has "
                f"{input.shape[1]} channels in dim 1, expected in_channels={self.in_channels}"
            )
        if self.padding_mode != "zeros" and self._padding != "valid":
            if self._padding == "same":  # total d·(k − 1) per dim, the extra one after
                (t, b), (left, r) = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                                     for k, d in zip(self.kernel_size, self.dilation)]  # fmt: skip
            else:
                (t, b), (left, r) = [(p, p) for p in self._padding]
            input = F.pad(input, (left, r, t, b), mode=self.padding_mode)
            return F.conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self._padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s if self.bias is not None else s + ", bias=False"


class _Pool2d(Module):
    """What both pools share: the window (kernel_size), its stride (default: kernel_size), padding, ceil_mode."""

    def __init__(
        self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses (the options only when they are not the defaults)."""
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return s + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool2d):
    """The largest value of each kernel_size window, per channel; ``stride`` defaults to ``kernel_size``.

    Only the winner of each window receives the gradient. ``dilation`` spreads the window,
    ``ceil_mode`` keeps a last partial window, ``return_indices`` also returns where each maximum
    was (h·W + w, what MaxUnpool2d takes), as PyTorch.
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation, self.return_indices = dilation, return_indices

    def forward(self, input: Tensor) -> Tensor:
        """x (N, C, H, W) → (N, C, OH, OW) (and the indices with return_indices)."""
        return F.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        s = super().extra_repr()
        return s + (f", dilation={self.dilation}" if self.dilation not in (1, (1, 1)) else "")


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window, per channel (padding counts as zeros unless count_include_pad=False).

    ``stride`` defaults to ``kernel_size``. Every element of a window receives 1/(KH·KW) of the
    window's gradient; ``divisor_override`` replaces KH·KW, as PyTorch.
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: IntOrPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        """x (N, C, H, W) → (N, C, OH, OW)."""
        return F.avg_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
            self.divisor_override,
        )  # fmt: skip
