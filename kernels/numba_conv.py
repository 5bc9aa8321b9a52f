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
    Or, where it computes fewer thrown-away numbers (``_lanes_pay``), the tile turned around
    (``_lanes_kernel``): LANES filters across the lanes of each accumulator, and positions as
    broadcasts, in RUNS runs of RUN = 5 neighbouring positions that start where they like, so
    the garbage columns are skipped. Its register budget, float32:

        ISA       registers  filters per vector  tile                      accumulators + weights
        SSE       16 xmm      4                   4 filters × 2 runs of 5   10 + 1 of 16
        AVX2      16 ymm      8                   8 filters × 2 runs of 5   10 + 1 of 16
        AVX-512   32 zmm     16                  16 filters × 4 runs of 5   20 + 1 of 32

    Per step: one load of LANES weights, then RUNS·RUN FMAs, each broadcasting its canvas number
    straight from memory (``vfmadd231ps (mem){1to16}``). For LeNet's second layer (16 filters,
    output rows of 10 on a canvas 14 wide) the MR × NR tile computes 18 filter rows × 144
    positions = 2592 numbers per image, the lanes tile 16 × 100 = 1600, all of them kept; its
    forward alone, 100 images, znver5, one thread: 0.44 → 0.35 ms (2 threads: 0.27 → 0.21).
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

import numpy as np
from numba import njit

from .numba_canvas import _canvas, _place_on_canvas
from .numba_matmul import (
    MR,
    NV,
    _pack_a,
    _register_tile,
    _slp_vectorizer,
    _store_tile,
    tile_cols,
)
from .numba_simd import lanes, scalar_loop, vfma, vload, vsplat, vsplat_at, vstore, vwidth, vzero
from .numba_threads import claim, run_shared


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


@njit(cache=True)
def _whole_tiles(length, nr, width):
    """The canvas positions the MR × NR tiles cover: whole tiles, and the ragged end too unless it
    is at most NR − LANES long (then ``_shifted_column_kernel`` does it a vector at a time).
    """
    return length // nr * nr if length % nr <= nr - width else length


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
    whole = _whole_tiles(length, nr, width)
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


# The filters-across-lanes tile (``_lanes_kernel``): RUNS runs of RUN neighbouring positions.
RUN = 5  # positions per run: LeNet's 10-pixel rows are two runs
RUNS = MR * NV // RUN  # 4 runs (20 accumulators) in 32 vector registers, 2 (10) in 16


@njit(fastmath={"contract"}, cache=True)
def _lanes_kernel(kc, wt, canvas, koff, starts, y_t, outs):
    """LANES filters × RUNS·RUN positions of y, the filters across the lanes of each accumulator.

    ``wt`` holds, for each tap k, the LANES filters' weights side by side (one vector); run r
    covers the RUN canvas positions from starts[r], and its results go to y_t[outs[r]:], one
    vector of LANES filters per position. Per step: one vector load of weights and RUNS·RUN
    fused multiply-adds, each with one number of the canvas broadcast straight from memory.
    """
    acc = _register_tile(y_t.dtype)
    width = vwidth(acc)
    for t in range(0, RUNS * RUN * width, width):
        vstore(acc, t, vzero(acc))
    for p in range(kc):
        wv = vload(wt, p * width)
        off = koff[p]
        for r in range(RUNS):
            base = off + starts[r]
            for j in range(RUN):
                t = (r * RUN + j) * width
                vstore(acc, t, vfma(vsplat_at(canvas, base + j), wv, vload(acc, t)))
    for r in range(RUNS):
        for j in range(RUN):
            vstore(y_t, outs[r] + j * width, vload(acc, (r * RUN + j) * width))


@njit(cache=True, nogil=True)
def _conv_images_lanes(x, wt, koff, place, wq, b, y, chunks, counter, slot):
    """y[n] = W @ B_n for the images n this thread claims, LANES filters at a time (_lanes_kernel).

    Each output row is cut into runs of RUN positions (the last run of a row may reach into its
    garbage columns), RUNS runs make a tile. A tile lands in y_t, one vector of filters per
    position; y_t is then transposed into y[n] row by row, with the bias added on the way.
    """
    F, OH, OW = y.shape[1:]
    K = koff.size
    width = vwidth(wt)
    per_row = (OW + RUN - 1) // RUN  # runs per output row
    runs = OH * per_row
    canvas = np.empty(place[5], dtype=y.dtype)
    y_t = np.empty(OH * per_row * RUN * width, dtype=y.dtype)
    starts, outs = np.empty(RUNS, dtype=np.int64), np.empty(RUNS, dtype=np.int64)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        for g in range(wt.size // (K * width)):  # a group of LANES filters
            for first in range(0, runs, RUNS):
                for r in range(RUNS):
                    q = min(first + r, runs - 1)  # the last tile repeats its last run to fill up
                    oh, ow = q // per_row, q % per_row * RUN
                    starts[r], outs[r] = oh * wq + ow, (oh * per_row * RUN + ow) * width
                _lanes_kernel(K, wt[g * K * width :], canvas, koff, starts, y_t, outs)
            for f in range(g * width, min(F, (g + 1) * width)):
                for oh in range(OH):
                    row, src = y[n, f, oh], y_t[oh * per_row * RUN * width + f - g * width :]
                    for ow in range(OW):
                        scalar_loop()  # a strided read: gathers on AVX-512 if vectorised
                        row[ow] = src[ow * width] + b[f]
        n = claim(chunks, counter, mine)


def _lanes_pay(F, K, out, wq, itemsize):
    """Whether the filters-across-lanes tile does less work than the MR × NR tile for this layer.

    Both compute some positions and filters that are thrown away: the MR × NR tile rounds F up
    to MR rows and computes the garbage columns of the canvas and whole tiles; the lanes tile
    rounds F up to LANES and each row's positions up to whole runs. The lanes tile also
    transposes its output, about one extra pass over y, so it is charged 16/K more per number
    (11 % for LeNet's second layer, K = 150; measured there: transposing took 0.04 of 0.35 ms).
    """
    (OH, OW), width, nr = out, lanes(itemsize), tile_cols(itemsize)
    vec = nr // NV
    length = OH * wq
    if F < MR:
        mr_nr = F * -(-length // (MR * nr)) * MR * nr
    else:
        whole = _whole_tiles(length, nr, vec)
        mr_nr = -(-F // MR) * MR * (-(-whole // nr) * nr + -(-(length - whole) // vec) * vec)
    tiles = -(-OH * -(-OW // RUN) // RUNS)
    lanes_work = -(-F // width) * width * tiles * RUNS * RUN * (1 + 16 / K)
    return lanes_work < mr_nr


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
    b = np.zeros(F, dtype=x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
    with _slp_vectorizer():
        if _lanes_pay(F, K, out, wq, x.dtype.itemsize):
            width = lanes(x.dtype.itemsize)
            groups = -(-F // width)
            wt = np.zeros((groups * width, K), dtype=x.dtype)  # filters past F are zeros
            wt[:F] = w
            wt = np.ascontiguousarray(wt.reshape(groups, width, K).transpose(0, 2, 1)).reshape(-1)  # (group, k, lane)
            run_shared(_conv_images_lanes, (x, wt, koff, place, wq, b, y), N)
            return y
        w_packed = np.empty((F + MR - 1) // MR * MR * K, dtype=x.dtype)
        _pack_a(w.reshape(-1), K, False, 0, F, 0, K, w_packed)
        run_shared(_conv_images, (x, w, w_packed, koff, place, wq, tile_cols(x.dtype.itemsize), b, y), N)
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
