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

The three kernels of the table, each a loop over images shared out between the threads in
chunks (numba_threads.run_shared; each thread has its own canvas):
  - forward: y[n] = W @ B_n, tile by tile. With fewer filters than MR = 6,
    ``_shifted_row_kernel`` fills the register tile with MR·NR positions of one filter instead.
  - backward-input: the same loop. dx is a stride-1 convolution of dy, with zeros inserted
    between its pixels when the stride is > 1 (dilation), padded by KH−1−ph, with the filters
    flipped and C and F swapped: dx[n,c,h,w] = Σ_f Σ_kh Σ_kw dy_dil_pad[n,f,h+kh,w+kw]·w[f,c,KH−1−kh,KW−1−kw].
  - backward-weight: dw[f, k] = Σ_n Σ_l dy_n[f, l] · canvas_n[koff[k] + l] with dy laid on the
    same grid (zeros in the garbage columns): a dot product of two contiguous rows for every
    (filter, tap) pair, 2 × 4 of them at a time (``_dot_tile``, vectorised along l).

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
from .numba_simd import lanes, vadd, vfma, vload, vsplat, vstore, vsum, vwidth, vzero
from .numba_threads import claim, run_shared, threads_for


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
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        if F < MR:  # few filters: one filter per tile, MR·NR positions
            for l0 in range(0, length, MR * nr):
                for f in range(F):
                    _shifted_row_kernel(K, w[f], canvas[l0:], koff, y_canvas[f * ldc + l0 :])
        else:
            for l0 in range(0, length, nr):  # a tile of NR positions: its B rows stay in L1 ...
                for f0 in range(0, F, MR):  # ... across all the filter panels
                    tile = y_canvas[f0 * ldc + l0 :]
                    _shifted_kernel(K, w_packed[f0 * K :], canvas[l0:], koff, tile, ldc, F - f0, nr)
        for f in range(F):
            for oh in range(OH):
                row, src = y[n, f, oh], y_canvas[f * ldc + oh * wq : f * ldc + oh * wq + OW]
                for ow in range(OW):
                    row[ow] = src[ow] + b[f]
        n = claim(chunks, counter, mine)


@njit(cache=True)
def _dot_tile(d, d0, d1, b, b0, b1, b2, b3, length, acc, at, row):
    """Eight dot products at once, Σ_l d[d_i + l]·b[b_j + l] for 2 rows of dy and 4 rows of B, kept as vectors.

    All six rows are contiguous along l, ``length`` numbers, a whole number of vectors
    (zero-padded), so each step is 6 vector loads and 8 vector FMAs into 8 registers of partial
    sums. The sums stay vectors: they are added to acc[at + i·row + j·LANES] (the running sums of
    the task), and their lanes are added up once at the end of the task, not once per image
    (a LeNet row is only 9 vectors long: eight lane sums per image cost more than the FMAs).
    The rows are given as two arrays and six offsets rather than six arrays, and the step is a
    constant (vwidth), so that the unrolled loop's addresses fit the integer registers: with six
    arrays and a step passed in, LLVM kept 24 pointers and reloaded them from the stack on every
    step. Summing lane by lane, then across lanes, only changes the rounding.
    """
    w = vwidth(d)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = vzero(d)
    for l in range(0, length, w):
        a0, a1 = vload(d, d0 + l), vload(d, d1 + l)
        c0, c1, c2, c3 = vload(b, b0 + l), vload(b, b1 + l), vload(b, b2 + l), vload(b, b3 + l)
        s00, s01, s02, s03 = vfma(a0, c0, s00), vfma(a0, c1, s01), vfma(a0, c2, s02), vfma(a0, c3, s03)
        s10, s11, s12, s13 = vfma(a1, c0, s10), vfma(a1, c1, s11), vfma(a1, c2, s12), vfma(a1, c3, s13)
    vstore(acc, at, vadd(vload(acc, at), s00))
    vstore(acc, at + w, vadd(vload(acc, at + w), s01))
    vstore(acc, at + 2 * w, vadd(vload(acc, at + 2 * w), s02))
    vstore(acc, at + 3 * w, vadd(vload(acc, at + 3 * w), s03))
    vstore(acc, at + row, vadd(vload(acc, at + row), s10))
    vstore(acc, at + row + w, vadd(vload(acc, at + row + w), s11))
    vstore(acc, at + row + 2 * w, vadd(vload(acc, at + row + 2 * w), s12))
    vstore(acc, at + row + 3 * w, vadd(vload(acc, at + row + 3 * w), s13))


@njit(cache=True, nogil=True)
def _weight_grad_images(dy, x, koff, place, wq, width, dw_parts, chunks, counter, slot):
    """dw[f, k] += Σ_l dy_canvas[f, l] · canvas[koff[k] + l] over the images n this thread claims; dw = dw_parts[slot].

    dy[n] is laid on the canvas grid (row oh at oh·wq, zeros in the garbage columns and up to a
    whole number of vectors of ``width``), so both factors are rows along l: 2 filters × 4 taps
    per _dot_tile call. The vector sums live in acc, F rounded up to 2 and K to 4 (the extra
    filters read zero rows of dy, the extra taps repeat the last one; both land in rows and
    columns of acc that are dropped); their lanes are added into dw, this thread's own (F·K)
    partial sum, at the end.
    """
    N, F, OH, OW = dy.shape
    K = koff.size
    Fp, Kp = (F + 1) // 2 * 2, (K + 3) // 4 * 4
    length = (OH * wq + width - 1) // width * width  # l = oh·wq + ow, padded to whole vectors
    dw = dw_parts[slot]
    canvas = np.empty(place[5], dtype=dw.dtype)
    dy_canvas = np.zeros(Fp * length, dtype=dw.dtype)
    acc = np.zeros(Fp * Kp * width, dtype=dw.dtype)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        for f in range(F):
            for oh in range(OH):
                row, src = dy_canvas[f * length + oh * wq : f * length + oh * wq + OW], dy[n, f, oh]
                for ow in range(OW):
                    row[ow] = src[ow]
        for f0 in range(0, Fp, 2):
            for k0 in range(0, Kp, 4):
                k1, k2, k3 = min(k0 + 1, K - 1), min(k0 + 2, K - 1), min(k0 + 3, K - 1)
                b0, b1, b2, b3 = koff[min(k0, K - 1)], koff[k1], koff[k2], koff[k3]
                at = (f0 * Kp + k0) * width
                _dot_tile(
                    dy_canvas, f0 * length, (f0 + 1) * length, canvas, b0, b1, b2, b3, length, acc, at, Kp * width
                )
        n = claim(chunks, counter, mine)
    for f in range(F):
        for k in range(K):
            dw[f * K + k] += vsum(vload(acc, (f * Kp + k) * width))


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


def conv2d_backward_weight(
    dy: np.ndarray, x: np.ndarray, w_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dw[f, c, kh, kw] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] · x_pad[n, c, oh·sh + kh, ow·sw + kw]

    On the canvas that is dw[f, k] = Σ_n Σ_l dy_canvas_n[f, l] · canvas_n[koff[k] + l]: a dot
    product of two rows for every (filter, tap) pair. Each task sums its images into its own
    dw; the partial sums are added at the end. (The garbage columns meet dy's zeros there: an
    infinite pixel of x that only a garbage column reads turns its dw entries into NaN, where
    the reference keeps them finite; with an infinite input the forward is not finite anyway.)
    """
    N, F, OH, OW = dy.shape
    C, KH, KW = w_shape[1:]
    place, wq, koff = _canvas(x.shape[1:], (KH, KW), tuple(stride), (OH, OW), tuple(padding))
    dw_parts = np.zeros((threads_for(N), F * koff.size), dtype=dy.dtype)  # one partial sum per thread
    if N * OH * OW > 0:
        run_shared(_weight_grad_images, (dy, x, koff, place, wq, lanes(dy.dtype.itemsize), dw_parts), N)
    return dw_parts.sum(axis=0).reshape(w_shape)


@njit(cache=True, nogil=True)
def _bias_grad_images(dy, db_parts, chunks, counter, slot):
    """db_parts[slot, f] = Σ dy[n, f, :, :] over the images n this thread claims: one vector sum per plane."""
    N, F, OH, OW = dy.shape
    sums = np.zeros(F, dtype=dy.dtype)
    width = vwidth(sums)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        for f in range(F):
            plane = dy[n, f].reshape(OH * OW)
            whole = plane.size // width * width
            total = vzero(plane)
            for i in range(0, whole, width):
                total = vadd(total, vload(plane, i))
            sums[f] += vsum(total)
            for i in range(whole, plane.size):
                sums[f] += plane[i]
        n = claim(chunks, counter, mine)
    db_parts[slot, :] = sums


def conv2d_backward_bias(dy: np.ndarray) -> np.ndarray:
    """db[f] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]: each thread sums its images' planes, then the threads' sums are added."""
    dy = np.ascontiguousarray(dy)
    db_parts = np.zeros((threads_for(dy.shape[0]), dy.shape[1]), dtype=dy.dtype)
    if dy.size:
        run_shared(_bias_grad_images, (dy, db_parts), dy.shape[0])
    return db_parts.sum(axis=0)
