"""Pools with PyTorch's full signatures: max_pool1d/2d, avg_pool1d/2d, the adaptive pools, max_unpool2d.

The plain cases use the kernel table (ops/conv.py); the options the table lacks (dilation,
ceil_mode, return_indices, count_include_pad=False, divisor_override) use ops/pool_extra.py.
The 1-D pools are the 2-D ones on images of height 1. Adaptive average pooling is linear and
separable: out = A_H x A_Wᵀ with averaging matrices A (one row per bin), two matmuls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import conv as _conv
from ..ops import pool_extra as _pool
from ..tensor import Tensor
from .functional_conv import _batched, _tuple


def _check_pool_padding(kernel: tuple, padding: tuple, op: str) -> None:
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, got padding={padding}, "
                         f"kernel_size={kernel}")  # fmt: skip


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window of x (N, C, H, W) or (C, H, W); with return_indices also h·W + w of it."""
    x, batched = _batched(input, 2, "max_pool2d")
    kernel = _tuple(kernel_size, 2, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None or stride == [] else _tuple(stride, 2, "stride", "max_pool2d", 1)
    padding, dilation = _tuple(padding, 2, "padding", "max_pool2d"), _tuple(dilation, 2, "dilation", "max_pool2d", 1)
    _check_pool_padding(kernel, padding, "max_pool2d")
    if dilation == (1, 1) and not ceil_mode and not return_indices:
        y, indices = _conv.MaxPool2d.apply(x, kernel, stride, padding), None
    else:
        if x.dtype.kind != "f":
            raise TypeError(f"max_pool2d: needs a floating-point input, got {x.dtype}; call x.float() first")
        sink: list = []
        y = _pool.MaxPool2dExt.apply(x, kernel, stride, padding, dilation, ceil_mode, sink)
        indices = Tensor._wrap(sink[0])
    if not batched:
        y = y.squeeze(0)
        indices = None if indices is None else indices.squeeze(0)
    return (y, indices) if return_indices else y


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """max_pool2d on (N, C, 1, L): the largest value of each window of x (N, C, L) or (C, L)."""
    x, batched = _batched(input, 1, "max_pool1d")
    (k,) = _tuple(kernel_size, 1, "kernel_size", "max_pool1d", 1)
    s = k if stride is None or stride == [] else _tuple(stride, 1, "stride", "max_pool1d", 1)[0]
    (p,), (d,) = _tuple(padding, 1, "padding", "max_pool1d"), _tuple(dilation, 1, "dilation", "max_pool1d", 1)
    out = max_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    y, idx = out if return_indices else (out, None)
    y = y.squeeze(2) if batched else y.squeeze(2).squeeze(0)
    if idx is not None:
        idx = idx.squeeze(2) if batched else idx.squeeze(2).squeeze(0)
    return (y, idx) if return_indices else y


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of x (N, C, H, W) or (C, H, W), with PyTorch's divisors."""
    x, batched = _batched(input, 2, "avg_pool2d")
    kernel = _tuple(kernel_size, 2, "kernel_size", "avg_pool2d", 1)
    stride = kernel if stride is None or stride == [] else _tuple(stride, 2, "stride", "avg_pool2d", 1)
    padding = _tuple(padding, 2, "padding", "avg_pool2d")
    _check_pool_padding(kernel, padding, "avg_pool2d")
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor must be not zero, got {divisor_override}")
    if not ceil_mode and (count_include_pad or padding == (0, 0)) and divisor_override is None:
        y = _conv.AvgPool2d.apply(x, kernel, stride, padding)
    else:
        if x.dtype.kind != "f":
            raise TypeError(f"avg_pool2d: needs a floating-point input, got {x.dtype}; call x.float() first")
        y = _pool.AvgPool2dExt.apply(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return y if batched else y.squeeze(0)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """avg_pool2d on (N, C, 1, L): the mean of each window of x (N, C, L) or (C, L)."""
    x, batched = _batched(input, 1, "avg_pool1d")
    (k,) = _tuple(kernel_size, 1, "kernel_size", "avg_pool1d", 1)
    s = k if stride is None or stride == [] else _tuple(stride, 1, "stride", "avg_pool1d", 1)[0]
    (p,) = _tuple(padding, 1, "padding", "avg_pool1d")
    y = avg_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(2)
    return y if batched else y.squeeze(0)


def _sizes(output_size: Any, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """output_size as a tuple; None entries keep the input's size, as PyTorch."""
    sizes = tuple(output_size) if isinstance(output_size, tuple | list) else (output_size,) * len(spatial)
    return tuple(n if o is None else int(o) for o, n in zip(sizes, spatial))


def _averaging_matrix(n_in: int, n_out: int, like: Tensor) -> Tensor:
    """A (n_out, n_in): row i is 1/len over bin i (ops/pool_extra.adaptive_bins), zeros elsewhere."""
    a = np.zeros((n_out, n_in), dtype=like.dtype)
    for i, (start, end) in enumerate(_pool.adaptive_bins(n_in, n_out)):
        a[i, start:end] = 1.0 / (end - start)
    return Tensor(a, device=like.device)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average x (N, C, H, W) or (C, H, W) over output_size bins: out = A_H x A_Wᵀ (bins as in PyTorch)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape {input.shape}")
    h, w = input.shape[-2:]
    oh, ow = _sizes(output_size, (h, w))
    if (oh, ow) == (1, 1):
        return input.mean(dim=(-2, -1), keepdim=True)
    return _averaging_matrix(h, oh, input) @ input @ _averaging_matrix(w, ow, input).transpose(0, 1)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average x (N, C, L) or (C, L) over output_size bins: out = x Aᵀ."""
    if input.ndim not in (2, 3):
        raise ValueError(f"adaptive_avg_pool1d: expected a 2-D or 3-D input, got shape {input.shape}")
    (o,) = _sizes(output_size, input.shape[-1:])
    return input @ _averaging_matrix(input.shape[-1], o, input).transpose(0, 1)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The largest value of x (N, C, H, W) or (C, H, W) in each of output_size bins (and its index h·W + w)."""
    x, batched = _batched(input, 2, "adaptive_max_pool2d")
    out = _sizes(output_size, x.shape[2:])
    sink: list = []
    y = _pool.AdaptiveMaxPool2d.apply(x, out, sink)
    if not return_indices:
        return y if batched else y.squeeze(0)
    indices = Tensor._wrap(sink[0])
    return (y, indices) if batched else (y.squeeze(0), indices.squeeze(0))


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """adaptive_max_pool2d on (N, C, 1, L)."""
    x, batched = _batched(input, 1, "adaptive_max_pool1d")
    (o,) = _sizes(output_size, x.shape[2:])
    out = adaptive_max_pool2d(x.unsqueeze(2), (1, o), return_indices)
    y, idx = out if return_indices else (out, None)
    y = y.squeeze(2) if batched else y.squeeze(2).squeeze(0)
    if idx is None:
        return y
    return y, (idx.squeeze(2) if batched else idx.squeeze(2).squeeze(0))


def max_unpool2d(
    input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None
) -> Tensor:
    """Undo max_pool2d: zeros of the pooled input's size, with each pooled value put back where it came from."""
    x, batched = _batched(input, 2, "max_unpool2d")
    idx = indices.array if batched else indices.array[None]
    kernel = _tuple(kernel_size, 2, "kernel_size", "max_unpool2d", 1)
    stride = kernel if stride is None else _tuple(stride, 2, "stride", "max_unpool2d", 1)
    padding = _tuple(padding, 2, "padding", "max_unpool2d")
    if output_size is None:
        out_hw = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    else:
        out_hw = tuple(output_size)[-2:]
    if idx.shape != x.shape:
        raise ValueError(f"max_unpool2d: indices {indices.shape} must have the input's shape {input.shape}")
    y = _pool.MaxUnpool2d.apply(x, idx, out_hw)
    return y if batched else y.squeeze(0)
