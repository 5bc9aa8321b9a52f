"""Convolution in Numba: the matmul's micro-kernel reading im2col straight from the padded image.

    y[n, f, oh, ow] = Σ_c Σ_kh Σ_kw  x_pad[n, c, oh·sh + kh, ow·sw + kw] · w[f, c, kh, kw]

As in the NumPy reference this is a matmul per image, y[n] = W @ B_n, with W the filters as an
(F, K) matrix (K = C·KH·KW taps) and B_n the im2col matrix of image n: one row per tap, one
column per output pixel. The reference builds every B_n (42 MB for 64×32×26×26 with 3×3 filters)
and reads it back. Here B_n is never built, thanks to one observation about stride 1: lay the
padded image out flat, row after row ("the canvas"), and number the output pixels the same way,
l = oh·wq + ow with wq the padded row length. Then

    B_n[k, l] = canvas[koff[k] + l]        koff[k] = c·hq·wq + kh·wq + kw   for tap k = (c, kh, kw)

so row k of B is the canvas itself, shifted by koff[k]: NR neighbouring outputs read NR
neighbouring numbers. The register-tiled micro-kernel of numba_matmul.py reads its B vectors
from there instead of from a packed panel (``_shifted_kernel``). The price: the KW−1 "garbage"
columns past the end of each output row (ow ≥ OW) are computed too, then dropped (13-29% extra
work on the listed shapes). A stride-(sh, sw) convolution becomes a stride-1 one over the sh·sw
phases of the padded image (pixel (i, j) stored in plane (c, i mod sh, j mod sw) at
(i // sh, j // sw)); koff then points into the right plane and the formula above still holds.

The kernels of the table, each a loop over images shared out between the threads in
chunks (numba_threads.run_shared; each thread has its own canvas):
  - forward: y[n] = W @ B_n, tile by tile. With fewer filters than MR = 6,
    ``_shifted_row_kernel`` fills the register tile with MR·NR positions of one filter instead;
    the positions left after the last whole tile go a vector at a time (``_shifted_column_kernel``).
  - backward-input: the same loop. dx is a stride-1 convolution of dy, with zeros inserted
    between its pixels when the stride is > 1 (dilation), padded by KH−1−ph, with the filters
    flipped and C and F swapped: dx[n,c,h,w] = Σ_f Σ_kh Σ_kw dy_dil_pad[n,f,h+kh,w+kw]·w[f,c,KH−1−kh,KW−1−kw].
  - backward-weight: dw[f, k] = Σ_n Σ_l dy_n[f, l] · canvas_n[koff[k] + l] with dy laid on the
    same grid (zeros in the garbage columns): a dot product of two contiguous rows for every
    (filter, tap) pair, 2 × 4 of them at a time (``_dot_tile``, vectorised along l); it and the
    bias gradient live in numba_conv_grad.py.

Measured on the four shapes of the benchmark (LeNet's 100×3×32×32 → 6 and 100×6×14×14 → 16
with 5×5 filters, 64×1×28×28 → 32 and 64×32×26×26 → 64 with 3×3), one thread, fp32, ms; the
machine is shared and noisy, so read the ratios, not the digits:
  - a direct convolution, loops n, f | c, kh, kw | oh, ow, vectorised along ow with y[n, f] in
    L1: forward 10.6 / 10.5 / 2.8 / 122 against 2.5 / 1.1 / 1.7 / 21 here. It loads and stores
    y for every FMA, where the micro-kernel keeps a 6 × 16 tile of y in registers for the whole sum.
  - im2col in Numba gathered straight into the matmul's packed panels (the first version of
    this file): forward + both backwards 30 / 14 / 24 / 139 against 5.4 / 4.5 / 4.4 / 90 now
    (the NumPy backend: 48 / 13 / 5.5 / 164). The gather costs about 1 ns per number, and a
    LeNet layer with 6 filters uses each gathered number for only 6 FMAs.
  - backward-weight as that gathered GEMM: 10.2 / 3.9 / 2.7 / 32 against 2.3 / 2.8 / 1.3 / 23
    for the dot products (same run).
The inner loops are MR·NV packed FMAs per step (``_shifted_kernel``, ``_shifted_row_kernel``: 12 on
ymm with AVX2, 24 on zmm with AVX-512) and 8 (``_dot_tile``), on the widest registers the target has;
tests/kernels/test_numba_asm.py checks that for haswell, skylake-avx512, icelake-server, znver3,
znver4 and the host, with no gathers and no stack traffic in those loops.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from .numba_matmul import (
    MR,
    NV,
    _pack_a,
    _register_tile,
    _slp_vectorizer,
    _store_tile,
    tile_cols,
)
from .numba_simd import vfma, vload, vsplat, vstore, vzero
from .numba_threads import claim, run_shared


@njit(cache=True)
def _place_on_canvas(x, place, canvas):
    """Write the image x (C, H, W) onto the flat canvas (zeros everywhere else).

    place = (rows, cols, h0, w0, plane, size, run): input row h0 + i goes to canvas offset
    rows[i], input column w0 + j to cols[j], channel c to c·plane (the tables come from _canvas;
    rows and columns that fall off the canvas are not in them); the canvas holds ``size``
    numbers. ``run`` says that the columns land next to each other (stride and dilation 1 along
    W): then a row is one contiguous copy.
    """
    rows, cols, h0, w0, plane, size, run = place
    canvas[:] = 0
    for c in range(x.shape[0]):
        for i in range(rows.size):
            src = x[c, h0 + i, w0 : w0 + cols.size]
            base = c * plane + rows[i]
            if run:
                dst = canvas[base + cols[0] : base + cols[0] + cols.size]
                for j in range(cols.size):
                    dst[j] = src[j]
            else:
                for j in range(cols.size):
                    canvas[base + cols[j]] = src[j]


@njit(fastmath={"contract"}, cache=True)
def _shifted_kernel(kc, ap, canvas, koff, c, ldc, rows, cols):
    """C-tile = W-panel @ B-tile with B[k, l] = canvas[koff[k] + l]: numba_matmul's micro-kernel,
    reading each row of B straight from the canvas (``canvas`` is the view starting at the tile's
    first position l0; ``c``, ldc, rows, cols address the tile of y as in _store_tile).
    """
    acc = _register_tile(c.dtype)
    nr = acc.size // MR
    width = nr // NV
    for t in range(0, MR * nr, width):
        vstore(acc, t, vzero(acc))
    for p in range(kc):
        off = koff[p]  # NR neighbouring positions of tap p: one contiguous run of NV vectors
        for i in range(MR):
            a = vsplat(ap[p * MR + i])
            for v in range(NV):
                t = i * nr + v * width
                vstore(acc, t, vfma(a, vload(canvas, off + v * width), vload(acc, t)))
    _store_tile(acc, c, ldc, rows, cols, False)


@njit(fastmath={"contract"}, cache=True)
def _shifted_column_kernel(kc, ap, canvas, koff, c, ldc, rows):
    """_shifted_kernel for the last few positions of a row of tiles: an MR × LANES tile, one vector per row.

    LeNet's second layer has 140 canvas positions per image: two whole tiles of NR = 64 (AVX-512)
    and 12 left over, for which a whole tile would compute 64 (a third of the layer's FMAs). The
    positions left over go through this kernel one vector at a time: per step one load of B, MR
    broadcasts of A, MR FMAs. The LANES results of each row are stored whole (y's canvas rows
    are padded to whole tiles), and only ``rows`` rows (the filters that exist).
    """
    acc = _register_tile(c.dtype)
    nr = acc.size // MR
    for i in range(MR):
        vstore(acc, i * nr, vzero(acc))
    for p in range(kc):
        b = vload(canvas, koff[p])
        for i in range(MR):
            t = i * nr
            vstore(acc, t, vfma(vsplat(ap[p * MR + i]), b, vload(acc, t)))
    for i in range(min(rows, MR)):
        vstore(c, i * ldc, vload(acc, i * nr))


@njit(fastmath={"contract"}, cache=True)
def _shifted_row_kernel(kc, wf, canvas, koff, c):
    """c[:MR·NR] = one filter wf @ B for MR·NR neighbouring canvas positions, B[k, l] = canvas[koff[k] + l].

    For a conv with fewer output channels than MR, a tile of MR filters would be mostly zeros:
    here the MR rows of the register tile hold MR runs of NR positions of the same filter. Each
    step loads MR·NV vectors of B for MR·NV FMAs (both load ports and both FMA units busy)
    instead of reusing each load MR times, but no FMA is wasted.
    """
    acc = _register_tile(c.dtype)
    nr = acc.size // MR
    width = nr // NV
    for t in range(0, MR * nr, width):
        vstore(acc, t, vzero(acc))
    for p in range(kc):
        a = vsplat(wf[p])
        off = koff[p]
        for t in range(0, MR * nr, width):
            vstore(acc, t, vfma(a, vload(canvas, off + t), vload(acc, t)))
    _store_tile(acc, c, nr, MR, nr, False)


@njit(cache=True, nogil=True)
def _conv_images(x, w, w_packed, koff, place, wq, nr, b, y, chunks, counter, slot):
    """y[n] = W @ B_n for the images n this thread claims: x[n] placed on the canvas, then every tile of y read off it.

    w is W (F, K), w_packed the same in MR-row panels; ``place`` is for _place_on_canvas, wq the
    canvas row length, nr = NR. y is (N, F, OH, OW); the tiles land first in y_canvas, F rows of OH·wq
    canvas positions (rounded up to whole tiles), then the garbage columns ow ≥ OW are dropped
    while the rows are copied to y, and the bias b[f] is added on the way (b is zeros for no bias).
    """
    F, OH, OW = y.shape[1:]
    K = koff.size
    length = OH * wq  # canvas positions l = oh·wq + ow
    ldc = (length + MR * nr - 1) // (MR * nr) * (MR * nr)
    canvas = np.empty(place[5], dtype=y.dtype)
    y_canvas = np.empty(F * ldc, dtype=y.dtype)
    width = nr // NV
    whole = length // nr * nr if length % nr <= nr - width else length  # positions in tiles that need all NV vectors
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        if F < MR:  # few filters: one filter per tile, MR·NR positions
            for l0 in range(0, length, MR * nr):
                for f in range(F):
                    _shifted_row_kernel(K, w[f], canvas[l0:], koff, y_canvas[f * ldc + l0 :])
        else:
            for l0 in range(0, whole, nr):  # a tile of NR positions: its B rows stay in L1 ...
                for f0 in range(0, F, MR):  # ... across all the filter panels
                    tile = y_canvas[f0 * ldc + l0 :]
                    _shifted_kernel(K, w_packed[f0 * K :], canvas[l0:], koff, tile, ldc, F - f0, nr)
            for l0 in range(whole, length, width):  # the few positions left over: a vector at a time
                for f0 in range(0, F, MR):
                    tile = y_canvas[f0 * ldc + l0 :]
                    _shifted_column_kernel(K, w_packed[f0 * K :], canvas[l0:], koff, tile, ldc, F - f0)
        for f in range(F):
            for oh in range(OH):
                row, src = y[n, f, oh], y_canvas[f * ldc + oh * wq : f * ldc + oh * wq + OW]
                for ow in range(OW):
                    row[ow] = src[ow] + b[f]
        n = claim(chunks, counter, mine)


@functools.lru_cache(maxsize=64)
def _canvas(x_shape, kernel, stride, out, top_left=(0, 0), dilation=(1, 1)):
    """Where everything sits on the canvas of one image: the padded (and dilated) image cut in stride phases.

    A stride-(sh, sw) convolution is a stride-1 convolution over the sh·sw phases of the padded
    image: padded pixel (i, j) is stored in phase plane (c, i mod sh, j mod sw) at (i // sh, j // sw),
    each plane hq × wq. Then window (oh, ow) starts at canvas position l = oh·wq + ow of plane 0,
    tap k = (c, kh, kw) of every window sits koff[k] further, and B[k, l] = canvas[koff[k] + l]
    holds for every stride. With stride 1 there is one plane per channel: the padded image itself.

    Returns (place, wq, koff): the placement for _place_on_canvas (with the canvas length), the
    plane row length wq, and koff. Remembered per geometry (a training loop asks for the same few
    again and again), so the tables are read-only.
    """
    C, H, W = x_shape
    (KH, KW), (sh, sw), (OH, OW) = kernel, stride, out
    (top, left), (dh, dw) = top_left, dilation
    hq, wq = -(-((OH - 1) * sh + KH) // sh), -(-((OW - 1) * sw + KW) // sw)  # the rows, columns windows reach
    plane = hq * wq
    c, kh, kw = np.meshgrid(np.arange(C), np.arange(KH), np.arange(KW), indexing="ij")
    koff = (c * sh * sw + (kh % sh) * sw + kw % sw) * plane + (kh // sh) * wq + kw // sw
    i, j = top + np.arange(H) * dh, left + np.arange(W) * dw  # where input rows and columns land
    h_in, w_in = (i >= 0) & (i < hq * sh), (j >= 0) & (j < wq * sw)
    rows = ((i % sh) * sw * plane + (i // sh) * wq)[h_in]
    cols = ((j % sw) * plane + j // sw)[w_in]
    h0, w0 = int(np.argmax(h_in)), int(np.argmax(w_in))
    run = bool(np.all(np.diff(cols) == 1))
    size = C * sh * sw * plane + wq + MR * tile_cols(4)  # slack: the last tile may read past the last plane
    rows, cols, koff = (_read_only(t.astype(np.int64)) for t in (rows, cols, koff.ravel()))
    return (rows, cols, h0, w0, sh * sw * plane, size, run), wq, koff


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _conv(x, w, stride, top_left, dilation, out, b=None):
    """y = w ⋆ (x on its canvas) + b: the loop shared by forward and backward-input (no bias there)."""
    N = x.shape[0]
    F, _, KH, KW = w.shape
    y = np.empty((N, F, *out), dtype=x.dtype)
    if y.size == 0:
        return y
    place, wq, koff = _canvas(x.shape[1:], (KH, KW), stride, out, top_left, dilation)
    K = koff.size
    w = w.reshape(F, K)
    w_packed = np.empty((F + MR - 1) // MR * MR * K, dtype=x.dtype)
    with _slp_vectorizer():
        _pack_a(w.reshape(-1), K, False, 0, F, 0, K, w_packed)
        nr = tile_cols(x.dtype.itemsize)
        b = np.zeros(F, dtype=x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
        run_shared(_conv_images, (x, w, w_packed, koff, place, wq, nr, b, y), N)
    return y


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, stride: tuple[int, int], padding: tuple[int, int], b: np.ndarray | None = None
) -> np.ndarray:
    """y[n, f, oh, ow] = b[f] + Σ_c Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw] · w[f, c, kh, kw]"""
    (H, W), (KH, KW) = x.shape[2:], w.shape[2:]
    (sh, sw), (ph, pw) = stride, padding
    out = ((H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1)
    return _conv(x, w, tuple(stride), tuple(padding), (1, 1), out, b)


def conv2d_backward_input(
    dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx[n, c, h, w] = Σ_f Σ_kh Σ_kw dy_dil_pad[n, f, h + kh, w + kw] · w[f, c, KH−1−kh, KW−1−kw]

    From y's formula, pixel h of x met filter row kh in output row oh = (h + ph − kh)/sh (when
    that is a whole in-range number). Insert sh−1 zeros between the rows of dy (dilation), pad
    by KH−1−ph, flip the filter, and this is a stride-1 convolution with C and F swapped.
    """
    KH, KW = w.shape[2:]
    ph, pw = padding
    w_flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C, F, KH, KW)
    return _conv(dy, w_flipped, (1, 1), (KH - 1 - ph, KW - 1 - pw), tuple(stride), tuple(x_shape[2:]))
