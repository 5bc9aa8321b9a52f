"""Convolutions with every PyTorch option: conv1d, conv2d(groups, dilation, "same"/"valid"), conv_transpose2d,
unfold and fold. Each reduces to the kernel table's conv2d (ops/conv.py, ops/conv_extra.py):

- groups g: the channels split into g independent convolutions, whose outputs are concatenated;
- dilation d: the kernel with d − 1 zeros between its taps (ops/conv_extra.Dilate);
- conv1d: conv2d on images of height 1;
- padding="same": pad so that the output is as long as the input (asymmetric if d·(k − 1) is odd);
- unfold (im2col): a convolution with one-hot filters, one filter per (channel, kh, kw), so that
  output channel (c, kh, kw) at pixel (oh, ow) is x_pad[c, oh·sh + kh·dh, ow·sw + kw·dw];
  fold (col2im) is its adjoint, the transposed convolution with the same filters.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..ops.conv import Conv2d as _Conv2d
from ..ops.conv_extra import ConvTranspose2d as _ConvTranspose2d
from ..ops.conv_extra import Dilate
from ..tensor import Tensor
from ..tensor_shape import cat
from .functional_pad import pad


def _tuple(value: Any, n: int, what: str, op: str, smallest: int = 0) -> tuple[int, ...]:
    """An int or n ints, each at least ``smallest``."""
    values = tuple(value) if isinstance(value, tuple | list) else (value,) * n
    try:
        out = tuple(operator.index(v) for v in values)
    except TypeError:
        out = ()
    if len(out) != n or min(out) < smallest:
        raise ValueError(f"{op}: {what} must be an int or {n} ints, each at least {smallest}, got {value!r}")
    return out


def _same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) per spatial dim so that stride-1 output size = input size: total d·(k − 1), extra after."""
    return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]


def _batched(input: Tensor, spatial: int, op: str) -> tuple[Tensor, bool]:
    if input.ndim == spatial + 1:
        return input.unsqueeze(0), False
    if input.ndim != spatial + 2:
        raise ShapeError(f"{op}: expected a {spatial + 2}-D input (batched) or {spatial + 1}-D (unbatched), got "
                         f"shape {input.shape}")  # fmt: skip
    return input, True


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of x (N, C, H, W) (or (C, H, W)) with weight (F, C/groups, KH, KW), as torch's.

    OH = ⌊(H + 2·ph − dh·(KH − 1) − 1) / sh⌋ + 1; ``padding`` an int, a pair, "valid" or "same".
    """
    x, batched = _batched(input, 2, "conv2d")
    if weight.ndim != 4:
        raise ShapeError(
            f"conv2d: weight must have shape (out_channels, in_channels/groups, KH, KW), got {weight.shape}"
        )
    stride, dilation = _tuple(stride, 2, "stride", "conv2d", 1), _tuple(dilation, 2, "dilation", "conv2d", 1)
    if groups < 1 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ShapeError(
            f"conv2d: input {x.shape} with groups={groups} needs weight (out_channels, {x.shape[1]}/{groups}, KH, KW) "
            f"with out_channels divisible by {groups}, got weight {weight.shape}"
        )
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            pads = _same_padding(kernel, dilation)
            if any(a != b for a, b in pads):
                x = pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
                padding = (0, 0)
            else:
                padding = (pads[0][0], pads[1][0])
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    padding = _tuple(padding, 2, "padding", "conv2d", 0)
    w = weight if dilation == (1, 1) else Dilate.apply(weight, dilation)
    if groups == 1:
        y = _Conv2d.apply(x, w, bias, stride, padding)
    else:
        xs, ws = x.chunk(groups, dim=1), w.chunk(groups, dim=0)
        bs = [None] * groups if bias is None else bias.chunk(groups, dim=0)
        y = cat([_Conv2d.apply(xi, wi, bi, stride, padding) for xi, wi, bi in zip(xs, ws, bs)], dim=1)
    return y if batched else y.squeeze(0)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of x (N, C, L) (or (C, L)) with weight (F, C/groups, K): conv2d on images of height 1."""
    x, batched = _batched(input, 1, "conv1d")
    if weight.ndim != 3:
        raise ShapeError(f"conv1d: weight must have shape (out_channels, in_channels/groups, K), got {weight.shape}")
    (s,), (d,) = _tuple(stride, 1, "stride", "conv1d", 1), _tuple(dilation, 1, "dilation", "conv1d", 1)
    p = padding if isinstance(padding, str) else (0, _tuple(padding, 1, "padding", "conv1d")[0])
    y = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), p, (1, d), groups).squeeze(2)
    return y if batched else y.squeeze(0)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed convolution of x (N, C_in, H, W) with weight (C_in, C_out/groups, KH, KW), as torch's.

    H_out = (H − 1)·sh − 2·ph + dh·(KH − 1) + output_padding + 1 (ops/conv_extra.ConvTranspose2d).
    """
    x, batched = _batched(input, 2, "conv_transpose2d")
    op = "conv_transpose2d"
    stride, padding = _tuple(stride, 2, "stride", op, 1), _tuple(padding, 2, "padding", op)
    output_padding, dilation = _tuple(output_padding, 2, "output_padding", op), _tuple(dilation, 2, "dilation", op, 1)
    if weight.ndim != 4 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(
            f"conv_transpose2d: input {x.shape} needs weight (in_channels={x.shape[1]}, out_channels/groups, KH, KW) "
            f"with in_channels divisible by groups={groups}, got weight {weight.shape}"
        )
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than stride or dilation")
    w = weight if dilation == (1, 1) else Dilate.apply(weight, dilation)
    kernel = w.shape[2:]
    out_hw = tuple((n - 1) * s - 2 * p + k + o for n, s, p, k, o in zip(x.shape[2:], stride, padding, kernel,
                                                                        output_padding))  # fmt: skip
    if min(out_hw) <= 0:
        raise ValueError(f"conv_transpose2d: the output would be {out_hw} for input {x.shape}; use less padding")
    if groups == 1:
        y = _ConvTranspose2d.apply(x, w, stride, padding, out_hw)
    else:
        parts = zip(x.chunk(groups, dim=1), w.chunk(groups, dim=0))
        y = cat([_ConvTranspose2d.apply(xi, wi, stride, padding, out_hw) for xi, wi in parts], dim=1)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y if batched else y.squeeze(0)


def _one_hot_filters(channels: int, kernel: tuple[int, int], dtype: Any, device: str) -> Tensor:
    """w[(c, kh, kw), c', kh', kw'] = 1 if (c, kh, kw) = (c', kh', kw'): the filters that copy one input each."""
    k = channels * kernel[0] * kernel[1]
    return Tensor(np.eye(k, dtype=dtype).reshape(k, channels, *kernel), device=device)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """im2col: x (N, C, H, W) → (N, C·KH·KW, L), column l holding the l-th sliding window (L = OH·OW)."""
    x, batched = _batched(input, 2, "unfold")
    kernel = _tuple(kernel_size, 2, "kernel_size", "unfold", 1)
    w = _one_hot_filters(x.shape[1], kernel, x.dtype, x.device)
    cols = conv2d(x, w, None, stride, _tuple(padding, 2, "padding", "unfold"), dilation)
    cols = cols.reshape(cols.shape[0], cols.shape[1], -1)
    return cols if batched else cols.squeeze(0)


def fold(
    input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """col2im, the adjoint of unfold: (N, C·KH·KW, L) → (N, C, H, W), overlapping window entries summed."""
    cols, batched = (input, True) if input.ndim == 3 else (input.unsqueeze(0), False)
    kernel = _tuple(kernel_size, 2, "kernel_size", "fold", 1)
    out_hw = _tuple(output_size, 2, "output_size", "fold", 1)
    stride, padding = _tuple(stride, 2, "stride", "fold", 1), _tuple(padding, 2, "padding", "fold")
    dilation = _tuple(dilation, 2, "dilation", "fold", 1)
    kk = kernel[0] * kernel[1]
    if cols.shape[1] % kk:
        raise ValueError(f"fold: expected size of dim 1 ({cols.shape[1]}) to be divisible by the kernel's {kk}")
    blocks = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(out_hw, padding, dilation, kernel,
                                                                              stride)]  # fmt: skip
    if blocks[0] * blocks[1] != cols.shape[2]:
        raise ValueError(f"fold: expected {blocks[0] * blocks[1]} blocks (dim 2) for output {out_hw}, got {cols.shape}")
    c = cols.shape[1] // kk
    w = _one_hot_filters(c, kernel, cols.dtype, cols.device)
    y = conv_transpose2d(cols.reshape(cols.shape[0], cols.shape[1], *blocks), w, None, stride, padding,
                         0, 1, dilation)  # fmt: skip
    # the transposed conv gives (H_out) = what the blocks reach; fold's output may be larger (uncovered rows)
    missing = [o - n for o, n in zip(out_hw, y.shape[2:])]
    if any(missing):
        y = pad(y, (0, missing[1], 0, missing[0]))
    return y if batched else y.squeeze(0)
