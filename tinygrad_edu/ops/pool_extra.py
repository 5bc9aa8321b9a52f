"""Pools with every PyTorch option (dilation, ceil_mode, return_indices, count_include_pad, divisor_override),
adaptive max pooling and max-unpooling, written in xp (NumPy or CuPy) array code.

The plain cases go through the kernel table (ops/conv.py); these Functions handle the rest with
one idea shared by all: output pixel (oh, ow) reads the window

    x_pad[n, c, oh·sh + kh·dh, ow·sw + kw·dw]      for kh < KH, kw < KW

of the input padded by (ph, pw) on each side (and, with ceil_mode, a little more at the end so
that a last partial window fits). One strided slice per kernel offset (kh, kw) reads that offset
for all output pixels at once. Gradients go back to the pixels by a scatter-add written as a
bincount (the same code on NumPy and CuPy).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..device import xp_of


def pool_output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's rule: ⌊ or ⌈(size + 2p − d(k − 1) − 1) / s⌉ + 1, minus one if the last window would start in the
    right padding.
    """
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return max(out, 0)


def _padded(x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple, value: float) -> Any:
    """x (N, C, H, W) padded by ``padding`` and, at the end, by whatever the last window needs."""
    xp = xp_of(x)
    extra = [max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for o, s, d, k, n, p in
             zip(out, stride, dilation, kernel, x.shape[2:], padding)]  # fmt: skip
    widths = ((0, 0), (0, 0), (padding[0], padding[0] + extra[0]), (padding[1], padding[1] + extra[1]))
    return xp.pad(x, widths, constant_values=value)


def _offsets(kernel: tuple, stride: tuple, dilation: tuple, out: tuple):
    """For every kernel offset (kh, kw): the slices of x_pad it reads for all output pixels."""
    (kh_n, kw_n), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    for kh in range(kh_n):
        for kw in range(kw_n):
            yield (
                kh,
                kw,
                (slice(kh * dh, kh * dh + sh * (oh - 1) + 1, sh), slice(kw * dw, kw * dw + sw * (ow - 1) + 1, sw)),
            )


def scatter_planes(values: Any, flat_index: Any, x_shape: tuple) -> Any:
    """dx[n, c].flat[flat_index[n, c, ...]] += values[n, c, ...]: a scatter-add per (n, c) plane (a bincount)."""
    xp = xp_of(values)
    n, c = x_shape[0], x_shape[1]
    plane = int(np.prod(x_shape[2:]))
    base = xp.arange(n * c).reshape(n, c, *([1] * (values.ndim - 2))) * plane
    idx = (flat_index + base).ravel()
    dx = xp.bincount(idx, weights=values.ravel().astype(np.float64), minlength=n * c * plane)
    return dx.astype(values.dtype).reshape(x_shape)


class MaxPool2dExt(Function):
    """y[n,c,oh,ow] = max_{kh,kw} x_pad[n,c, oh·sh + kh·dh, ow·sw + kw·dw]     (padding = −inf)

    Also gives ``indices`` = h·W + w, the winner's place in the unpadded (H, W) plane (what
    ``return_indices=True`` returns). The winner alone moved y, so dx[n,c].flat[indices] += dy.
    The first maximum of a window wins a tie, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode, indices_out):
        xp = xp_of(x)
        h, w = x.shape[2:]
        out = tuple(pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                    zip((h, w), kernel, stride, padding, dilation))  # fmt: skip
        x_pad = _padded(x, kernel, stride, padding, dilation, out, -np.inf)
        y = xp.full((*x.shape[:2], *out), -np.inf, dtype=x.dtype)
        rows = xp.arange(out[0]).reshape(-1, 1) * stride[0] - padding[0]
        cols = xp.arange(out[1]).reshape(1, -1) * stride[1] - padding[1]
        indices = xp.zeros(y.shape, dtype=np.int64)
        first = True
        for kh, kw, (r, c) in _offsets(kernel, stride, dilation, out):
            v = x_pad[:, :, r, c]
            wins = (v > y) | xp.isnan(v) if not first else xp.ones(v.shape, dtype=bool)
            first = False
            y = xp.where(wins, v, y)
            hh, ww = rows + kh * dilation[0], cols + kw * dilation[1]
            indices = xp.where(wins, xp.clip(hh, 0, h - 1) * w + xp.clip(ww, 0, w - 1), indices)
        ctx.x_shape = x.shape
        ctx.save_for_backward(indices)
        indices_out.append(indices)  # the caller's list receives the indices (return_indices=True)
        return y

    @staticmethod
    def backward(ctx, dy):
        (indices,) = ctx.saved_tensors
        return scatter_planes(dy, indices, ctx.x_shape), None, None, None, None, None, None


class AvgPool2dExt(Function):
    """y[n,c,oh,ow] = (1/D) Σ_{kh,kw} x_pad[n,c, oh·sh + kh, ow·sw + kw]      (padding = 0)

    D is ``divisor_override`` if given; else the window's size clipped to the padded input
    (count_include_pad=True) or to the real input (count_include_pad=False): PyTorch's divisors.
    Each pixel of a window moved y by 1/D: dx_pad[window] += dy / D, then the padding is cut off.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        xp = xp_of(x)
        h, w = x.shape[2:]
        ones = (1, 1)
        out = tuple(pool_output_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip((h, w), kernel, stride, padding))
        x_pad = _padded(x, kernel, stride, padding, ones, out, 0.0)
        total = xp.zeros((*x.shape[:2], *out), dtype=x.dtype)
        for _, _, (r, c) in _offsets(kernel, stride, ones, out):
            total += x_pad[:, :, r, c]
        if divisor_override:
            divisor = xp.asarray(float(divisor_override), dtype=x.dtype)
        else:
            sizes = []
            for o, k, s, p, n in zip(out, kernel, stride, padding, (h, w)):
                start = np.arange(o) * s - p
                end = np.minimum(start + k, n + p)
                if not count_include_pad:
                    start, end = np.maximum(start, 0), np.minimum(end, n)
                sizes.append(end - start)
            divisor = xp.asarray(np.outer(sizes[0], sizes[1]).astype(x.dtype))
        ctx.divisor, ctx.x_pad_shape, ctx.x_shape = divisor, x_pad.shape, x.shape
        ctx.kernel, ctx.stride, ctx.padding, ctx.out = kernel, stride, padding, out
        return total / divisor

    @staticmethod
    def backward(ctx, dy):
        xp = xp_of(dy)
        share = dy / ctx.divisor
        dx_pad = xp.zeros(ctx.x_pad_shape, dtype=dy.dtype)
        for _, _, (r, c) in _offsets(ctx.kernel, ctx.stride, (1, 1), ctx.out):
            dx_pad[:, :, r, c] += share
        (ph, pw), (h, w) = ctx.padding, ctx.x_shape[2:]
        return dx_pad[:, :, ph : ph + h, pw : pw + w].copy(), None, None, None, None, None, None


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: bin i covers [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


class AdaptiveMaxPool2d(Function):
    """y[n,c,i,j] = max of x[n,c] over the bin rows_i × cols_j (adaptive_bins), indices = h·W + w of the winner.

    dx[n,c].flat[indices] += dy, as for max_pool2d.
    """

    @staticmethod
    def forward(ctx, x, out, indices_out):
        xp = xp_of(x)
        n, c, h, w = x.shape
        y = xp.empty((n, c, *out), dtype=x.dtype)
        indices = xp.empty((n, c, *out), dtype=np.int64)
        for i, (r0, r1) in enumerate(adaptive_bins(h, out[0])):
            for j, (c0, c1) in enumerate(adaptive_bins(w, out[1])):
                window = x[:, :, r0:r1, c0:c1].reshape(n, c, -1)
                k = window.argmax(axis=-1)
                y[:, :, i, j] = xp.take_along_axis(window, k[..., None], axis=-1)[..., 0]
                indices[:, :, i, j] = (r0 + k // (c1 - c0)) * w + c0 + k % (c1 - c0)
        ctx.save_for_backward(indices)
        ctx.x_shape = x.shape
        indices_out.append(indices)
        return y

    @staticmethod
    def backward(ctx, dy):
        (indices,) = ctx.saved_tensors
        return scatter_planes(dy, indices, ctx.x_shape), None, None


class MaxUnpool2d(Function):
    """y (N, C, H_out, W_out) zeros except y[n,c].flat[indices[n,c,i,j]] = x[n,c,i,j]: max_pool2d's winners put back.

    Each x element lands in one place, so dx[n,c,i,j] = dy[n,c].flat[indices[n,c,i,j]] (a gather).
    """

    @staticmethod
    def forward(ctx, x, indices, out_hw):
        xp = xp_of(x)
        n, c = x.shape[:2]
        plane = out_hw[0] * out_hw[1]
        if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= plane):
            raise ValueError(f"max_unpool2d: found an index outside the output plane of {plane} elements {out_hw}")
        y = xp.zeros((n * c, plane), dtype=x.dtype)
        rows = xp.arange(n * c).reshape(-1, 1)
        y[rows, indices.reshape(n * c, -1)] = x.reshape(n * c, -1)
        ctx.indices, ctx.plane = indices, plane
        return y.reshape(n, c, *out_hw)

    @staticmethod
    def backward(ctx, dy):
        xp = xp_of(dy)
        n, c = dy.shape[:2]
        flat = dy.reshape(n * c, -1)
        dx = xp.take_along_axis(flat, ctx.indices.reshape(n * c, -1), axis=1)
        return dx.reshape(ctx.indices.shape), None, None
