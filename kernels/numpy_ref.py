"""The NumPy reference backend: the readable version of every kernel in the table.

Other backends must agree with these functions (tests/kernels check it). Nothing here is tuned:
matmul hands the work to NumPy's BLAS; convolution and pooling are written so that their index
arithmetic reads like the definitions.
"""

from __future__ import annotations

import numpy as np

name = "numpy"
device = "cpu"


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B for (M, K) @ (K, N), or per matrix for (B, M, K) @ (B, K, N).

    By definition Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ: three nested loops (i, j, k), M·N·K multiply-adds, 2·M·N·K
    flops. NumPy's BLAS runs exactly that sum, blocked for the caches and vectorised; the Numba
    backend writes those blocks out by hand.
    """
    return np.matmul(a, b)


def matmul_int8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B for (M, K) int8 or uint8 @ (K, N) int8, summed exactly in int32: Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ.

    The product of a quantized layer (tinygrad_edu.quantization). Each term is at most
    255 · 128 = 32 640 in size, so int32 holds any realistic sum exactly; the bytes are widened to
    int32 first so that NumPy never multiplies in int8 (which would wrap around).
    """
    if a.dtype not in (np.int8, np.uint8) or b.dtype != np.int8:
        raise TypeError(f"matmul_int8: needs int8 or uint8 @ int8 arrays, got {a.dtype} @ {b.dtype}")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul_int8: shapes {a.shape} @ {b.shape} are not (M, K) @ (K, N)")
    return np.matmul(a.astype(np.int32), b.astype(np.int32))


# ---------------------------------------------------------------------------------------------
# Convolution as im2col + matmul
#
# Shapes: x (N, C, H, W) images, w (F, C, KH, KW) filters, stride (sh, sw), padding (ph, pw).
# x_pad is x with ph zero rows above and below and pw zero columns left and right; then
#
#     y[n, f, oh, ow] = Σ_c Σ_kh Σ_kw  x_pad[n, c, oh·sh + kh, ow·sw + kw] · w[f, c, kh, kw]
#
# with OH = (H + 2·ph − KH) // sh + 1 and OW = (W + 2·pw − KW) // sw + 1 (PyTorch's conv2d is this
# cross-correlation: the filter is not flipped). im2col copies, for every output pixel, the
# C·KH·KW input numbers its sum reads into one column; the triple sum then becomes a matmul.
# ---------------------------------------------------------------------------------------------


def relu(x: np.ndarray) -> np.ndarray:
    """y = max(x, 0), elementwise (NaN stays NaN)."""
    return np.maximum(x, 0)


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dx = dy · [y > 0], y the forward's output ([y > 0] = [x > 0]); NaN · 0 is NaN, so a NaN in dy stays."""
    return dy * (y > 0)


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a window of ``kernel`` takes along a side: (size + 2·padding − kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """x_pad: x (N, C, H, W) with ``ph`` rows of ``value`` above and below and ``pw`` columns left and right."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _window(kh: int, kw: int, oh_count: int, ow_count: int, stride: tuple[int, int]) -> tuple[slice, slice]:
    """The rows oh·sh + kh and columns ow·sw + kw (oh < OH, ow < OW) of x_pad, as two slices.

    For a fixed kernel offset (kh, kw), output pixel (oh, ow) reads x_pad[oh·sh + kh, ow·sw + kw]:
    over all output pixels that is every sh-th row from kh and every sw-th column from kw.
    """
    sh, sw = stride
    return slice(kh, kh + sh * oh_count, sh), slice(kw, kw + sw * ow_count, sw)


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]) -> np.ndarray:
    """cols[n, c, kh, kw, oh, ow] = x_pad[n, c, oh·sh + kh, ow·sw + kw]: every receptive field, unrolled.

    Read cols[n] as a matrix of C·KH·KW rows and OH·OW columns: column (oh, ow) holds the numbers
    that output pixel (oh, ow) multiplies by the filter. One loop over the KH·KW kernel offsets,
    each copying a strided slice of the whole batch at once.
    """
    N, C, H, W = x.shape
    KH, KW = kernel
    OH, OW = output_size(H, KH, stride[0], padding[0]), output_size(W, KW, stride[1], padding[1])
    x_pad = pad(x, padding)
    cols = np.empty((N, C, KH, KW, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, columns = _window(kh, kw, OH, OW, stride)
            cols[:, :, kh, kw] = x_pad[:, :, rows, columns]
    return cols


def col2im(cols: np.ndarray, x_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]) -> np.ndarray:
    """The adjoint of im2col: x[n, c, oh·sh + kh − ph, ow·sw + kw − pw] += cols[n, c, kh, kw, oh, ow].

    im2col copies one input pixel into every column whose window covers it; col2im adds each
    column entry back onto the pixel it came from (a scatter-add), then drops the padding. That
    is exactly the backward of im2col: a pixel read k times receives the sum of its k gradients.
    """
    N, C, H, W = x_shape
    ph, pw = padding
    _, _, KH, KW, OH, OW = cols.shape
    x_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, columns = _window(kh, kw, OH, OW, stride)
            x_pad[:, :, rows, columns] += cols[:, :, kh, kw]
    return x_pad[:, :, ph : ph + H, pw : pw + W]


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, stride: tuple[int, int], padding: tuple[int, int], b: np.ndarray | None = None
) -> np.ndarray:
    """y[n, f, oh, ow] = b[f] + Σ_c Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw] · w[f, c, kh, kw]

    With cols = im2col(x) viewed as (N, C·KH·KW, OH·OW) and the filters as rows of a matrix
    W = w.reshape(F, C·KH·KW), the triple sum is a matmul per image: y[n] = W @ cols[n]; then
    one bias per filter, broadcast over n, oh, ow (b None: no bias).
    """
    N = x.shape[0]
    F, C, KH, KW = w.shape
    cols = im2col(x, (KH, KW), stride, padding)
    OH, OW = cols.shape[-2:]
    y = w.reshape(F, C * KH * KW) @ cols.reshape(N, C * KH * KW, OH * OW)  # (N, F, OH·OW)
    y = y.reshape(N, F, OH, OW)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv2d_backward_bias(dy: np.ndarray) -> np.ndarray:
    """db[f] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]: b[f] was added to every output of filter f."""
    return dy.sum(axis=(0, 2, 3))


def conv2d_backward_input(
    dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx = col2im(Wᵀ @ dy[n]): the gradient of every column, scattered back onto the pixels.

    From y[n] = W @ cols[n], the matmul rule gives dcols[n] = Wᵀ @ dy[n] (C·KH·KW × OH·OW);
    written out, dcols[n, c, kh, kw, oh, ow] = Σ_f w[f, c, kh, kw] · dy[n, f, oh, ow]. Each
    column entry came from x_pad[n, c, oh·sh + kh, ow·sw + kw], so col2im adds it back there.
    """
    N, F, OH, OW = dy.shape
    _, C, KH, KW = w.shape
    dcols = w.reshape(F, C * KH * KW).T @ dy.reshape(N, F, OH * OW)  # (N, C·KH·KW, OH·OW)
    return col2im(dcols.reshape(N, C, KH, KW, OH, OW), x_shape, stride, padding)


def conv2d_backward_weight(
    dy: np.ndarray, x: np.ndarray, w_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dw[f, c, kh, kw] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] · x_pad[n, c, oh·sh + kh, ow·sw + kw]

    Each filter weight touched every output pixel of every image, so its gradient sums over all
    of them. In matrix form, from y[n] = W @ cols[n]: dW = Σ_n dy[n] @ cols[n]ᵀ, one matmul
    of (F, N·OH·OW) by (N·OH·OW, C·KH·KW) once the image axis joins the pixel axes.
    """
    N, F, OH, OW = dy.shape
    _, C, KH, KW = w_shape
    cols = im2col(x, (KH, KW), stride, padding).reshape(N, C * KH * KW, OH * OW)
    dw = np.tensordot(dy.reshape(N, F, OH * OW), cols, axes=([0, 2], [0, 2]))  # Σ over n and pixels: (F, C·KH·KW)
    return dw.reshape(w_shape)


# ---------------------------------------------------------------------------------------------
# Pooling: the same windows, x_pad[n, c, oh·sh + kh, ow·sw + kw], reduced by max or mean
# ---------------------------------------------------------------------------------------------


def max_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """y[n, c, oh, ow] = max over kh, kw of x_pad[n, c, oh·sh + kh, ow·sw + kw]   (padding = −inf)

    Also returns where each maximum came from: indices[n, c, oh, ow] = h·W + w, its position in
    the input's (H, W) plane (h = oh·sh + kh − ph, w = ow·sw + kw − pw). Windows are scanned in
    (kh, kw) order and a later value wins only if strictly larger, so on a tie the first one
    wins, as in PyTorch; a NaN wins too, so NaNs propagate. Padding never wins (it is −inf,
    and PyTorch's rule padding ≤ kernel/2 leaves a real pixel in every window).
    """
    N, C, H, W = x.shape
    KH, KW = kernel
    (sh, sw), (ph, pw) = stride, padding
    OH, OW = output_size(H, KH, sh, ph), output_size(W, KW, sw, pw)
    x_pad = pad(x, padding, value=-np.inf)
    oh = np.arange(OH).reshape(OH, 1)  # broadcast as a column
    ow = np.arange(OW).reshape(1, OW)  # ... and as a row
    y = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    # Until a real pixel wins, point at the window's first in-bounds pixel (PyTorch's start value).
    indices = np.broadcast_to(np.maximum(oh * sh - ph, 0) * W + np.maximum(ow * sw - pw, 0), y.shape).copy()
    for kh in range(KH):
        for kw in range(KW):
            rows, columns = _window(kh, kw, OH, OW, stride)
            v = x_pad[:, :, rows, columns]
            wins = (v > y) | np.isnan(v)
            y = np.where(wins, v, y)
            h, w = oh * sh + kh - ph, ow * sw + kw - pw  # the input pixel this offset reads
            indices = np.where(wins, h * W + w, indices)
    return y, indices.astype(np.int64, copy=False)


def max_pool2d_backward(dy: np.ndarray, indices: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]

    Only the pixel that won a window moved y, so it alone receives that window's gradient; a
    pixel that wins several overlapping windows receives the sum (np.add.at adds repeats).
    """
    N, C, H, W = x_shape
    dx = np.zeros((N * C, H * W), dtype=dy.dtype)
    plane = np.arange(N * C).reshape(N * C, 1)  # which (n, c) plane each row of indices belongs to
    np.add.at(dx, (plane, indices.reshape(N * C, -1)), dy.reshape(N * C, -1))
    return dx.reshape(x_shape)


def avg_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """y[n, c, oh, ow] = 1/(KH·KW) · Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw]   (padding = 0)

    The divisor is always KH·KW, padded pixels included (PyTorch's count_include_pad=True).
    """
    N, C, H, W = x.shape
    KH, KW = kernel
    OH, OW = output_size(H, KH, stride[0], padding[0]), output_size(W, KW, stride[1], padding[1])
    x_pad = pad(x, padding)
    total = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, columns = _window(kh, kw, OH, OW, stride)
            total += x_pad[:, :, rows, columns]
    return total / np.asarray(KH * KW, dtype=x.dtype)


def avg_pool2d_backward(
    dy: np.ndarray, x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx[n, c, oh·sh + kh − ph, ow·sw + kw − pw] += dy[n, c, oh, ow] / (KH·KW)

    Every pixel of a window moved its mean by 1/(KH·KW), so each receives that share of the
    window's gradient, summed over the windows that cover it; padded pixels' shares are dropped.
    """
    N, C, H, W = x_shape
    KH, KW = kernel
    ph, pw = padding
    OH, OW = dy.shape[-2:]
    share = dy / np.asarray(KH * KW, dtype=dy.dtype)
    dx_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dy.dtype)
    for kh in range(KH):
        for kw in range(KW):
            rows, columns = _window(kh, kw, OH, OW, stride)
            dx_pad[:, :, rows, columns] += share
    return dx_pad[:, :, ph : ph + H, pw : pw + W]
