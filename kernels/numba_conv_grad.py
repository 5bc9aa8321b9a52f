"""The convolution's weight and bias gradients in Numba, on the canvas of numba_conv.py.

    dw[f, c, kh, kw] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] · x_pad[n, c, oh·sh + kh, ow·sw + kw]
    db[f]            = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]

On the canvas (numba_conv.py: image n laid out flat, tap k = (c, kh, kw) of window l at
canvas[koff[k] + l]) the first is dw[f, k] = Σ_n Σ_l dy_canvas_n[f, l] · canvas_n[koff[k] + l]: a
dot product of two contiguous rows for every (filter, tap) pair, 2 × 4 of them at a time
(``_dot_tile``, vectorised along l). Where that wastes more (``_lanes_weight_pay``; LeNet's second
layer: rows of only 9 vectors), the tile turned around as in numba_conv's forward
(``_lanes_weight_kernel``): LANES filters across the lanes, RUNS runs of RUN neighbouring taps as
broadcasts, the sums in registers for a whole image (0.65 → 0.37 ms there, 100 images, one thread,
znver5; 0.39 → 0.24 ms on two). The second is one vector sum per (image, filter) plane. Both
loop over images shared out between the threads (numba_threads.run_shared), each thread summing
into its own row of partial sums, added at the end.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numba_canvas import _canvas, _place_on_canvas
from .numba_conv import RUN, RUNS
from .numba_matmul import _register_tile, _slp_vectorizer
from .numba_simd import VECTOR_REGISTERS, lanes, scalar_loop, vadd, vfma, vload, vsplat_at, vstore, vsum, vwidth, vzero
from .numba_threads import STREAM_SERIAL_BELOW, claim, run_shared, threads_for


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


@njit(fastmath={"contract"}, cache=True)
def _lanes_weight_kernel(OH, OW, wq, dy_t, canvas, starts, sums, outs):
    """sums[outs[r] + j·LANES] += Σ_l dy_t[l] · canvas[starts[r] + j + l]: LANES filters × RUNS runs of RUN taps.

    The weight gradient's tile turned around, as numba_conv._lanes_kernel turns the forward's:
    dy_t holds, for each output position p = oh·OW + ow, the LANES filters' dy side by side (one
    vector); run r is RUN neighbouring taps (one kernel row, kw = j0 … j0 + RUN − 1, whose canvas
    offsets follow each other). Per position: one vector load of dy, RUNS·RUN FMAs, each
    broadcasting one canvas number straight from memory; the sums stay in registers for the
    whole image, then are added to ``sums``.
    """
    acc = _register_tile(sums.dtype)
    width = vwidth(acc)
    for t in range(0, RUNS * RUN * width, width):
        vstore(acc, t, vzero(acc))
    for oh in range(OH):
        for ow in range(OW):
            dv = vload(dy_t, (oh * OW + ow) * width)
            l = oh * wq + ow
            for r in range(RUNS):
                base = starts[r] + l
                for j in range(RUN):
                    t = (r * RUN + j) * width
                    vstore(acc, t, vfma(vsplat_at(canvas, base + j), dv, vload(acc, t)))
    for r in range(RUNS):
        for j in range(RUN):
            at = outs[r] + j * width
            vstore(sums, at, vadd(vload(sums, at), vload(acc, (r * RUN + j) * width)))


@njit(cache=True, nogil=True)
def _weight_grad_images_lanes(dy, x, run_starts, place, wq, sums_parts, chunks, counter, slot):
    """sums[g, run, j, :] += Σ_l dy_t[l, :] · canvas[run_starts[run] + j + l] over the images this thread claims.

    run_starts lists the canvas offset of each run's first tap (a kernel row cut into runs of
    RUN taps). sums = sums_parts[slot] holds one vector of LANES filters per (group, run, tap in
    run), with one extra run at the end that the last tile's filler runs sum into (dropped).
    """
    N, F, OH, OW = dy.shape
    sums = sums_parts[slot]
    width = vwidth(sums)
    runs = run_starts.size
    per_group = (runs + 1) * RUN * width
    canvas = np.empty(place[5], dtype=sums.dtype)
    dy_t = np.zeros(OH * OW * width, dtype=sums.dtype)
    starts, outs = np.empty(RUNS, dtype=np.int64), np.empty(RUNS, dtype=np.int64)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        for g in range(sums.size // per_group):
            for f in range(g * width, min(F, (g + 1) * width)):
                plane = dy[n, f].reshape(OH * OW)
                for p in range(OH * OW):
                    scalar_loop()  # a strided write: scatters on AVX-512 if vectorised
                    dy_t[p * width + f - g * width] = plane[p]
            for first in range(0, runs, RUNS):
                for r in range(RUNS):
                    q = first + r
                    starts[r] = run_starts[min(q, runs - 1)]
                    outs[r] = g * per_group + min(q, runs) * RUN * width  # filler runs: the extra run
                _lanes_weight_kernel(OH, OW, wq, dy_t, canvas, starts, sums, outs)
        n = claim(chunks, counter, mine)


def _lanes_weight_pay(F, KW, sw, K, length, positions, itemsize):
    """Whether the filters-across-lanes tile does less work than the 2 × 4 dot tiles for this layer's dw.

    It needs neighbouring taps along a kernel row (stride 1 along W) and 32 vector registers
    (AVX-512: on AVX2, LLVM unrolls its position loop by two to reuse the broadcasts of
    neighbouring positions, and spills them to the stack), and charges each kernel row
    whole runs of RUN taps, plus 16/K for laying dy out by position. The dot tiles charge F rounded to 2, K to 4
    and the canvas row's garbage columns, and lose time at the end of every row: with v vectors per
    row they ran at about 1/(1 + 9/v) of their FMA rate here (v = 9 for LeNet's second layer:
    half; dots 0.65 ms against lanes 0.37 there, one thread; 11.0 against 11.5 for 64×32×26×26 → 64 3×3, v = 39).
    """
    if sw != 1 or VECTOR_REGISTERS < 32:  # with 16 registers LLVM unrolls the position loop and spills (znver3)
        return False
    width = lanes(itemsize)
    vectors = -(-length // width)
    lanes_work = -(-F // width) * width * (K // KW) * -(-KW // RUN) * RUN * positions * (1 + 16 / K)
    dot_work = -(-F // 2) * 2 * -(-K // 4) * 4 * vectors * width * (1 + 9 / vectors)
    return lanes_work < dot_work


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
    K, width = koff.size, lanes(dy.dtype.itemsize)
    if N * OH * OW == 0:
        return np.zeros(w_shape, dtype=dy.dtype)
    if _lanes_weight_pay(F, KW, stride[1], K, OH * wq, OH * OW, dy.dtype.itemsize):
        dy = np.ascontiguousarray(dy)
        per_row = -(-KW // RUN)  # runs per kernel row
        run_starts = koff.reshape(C * KH, KW)[:, ::RUN].reshape(-1).copy()  # each run's first tap
        groups = -(-F // width)
        sums = np.zeros((threads_for(N), groups, C * KH * per_row + 1, RUN, width), dtype=dy.dtype)
        with _slp_vectorizer():
            run_shared(_weight_grad_images_lanes, (dy, x, run_starts, place, wq, sums.reshape(sums.shape[0], -1)), N)
        total = sums.sum(axis=0)[:, :-1].reshape(groups, C * KH, per_row * RUN, width)[:, :, :KW]
        return np.ascontiguousarray(total.transpose(0, 3, 1, 2).reshape(groups * width, K)[:F]).reshape(w_shape)
    dw_parts = np.zeros((threads_for(N), F * K), dtype=dy.dtype)  # one partial sum per thread
    run_shared(_weight_grad_images, (dy, x, koff, place, wq, width, dw_parts), N)
    return dw_parts.sum(axis=0).reshape(w_shape)


@njit(cache=True, nogil=True)
def _bias_grad_images(dy, F, plane_size, db_parts, chunks, counter, slot):
    """db_parts[slot, f] = Σ dy[n, f, :, :] over the images n this thread claims: one vector sum per plane.

    dy is the flat (N·F·OH·OW) array, read at computed offsets: a view per plane would cost an
    atomic update of the array's shared reference count, passed back and forth between the threads.
    """
    sums = np.zeros(F, dtype=dy.dtype)
    width = vwidth(sums)
    whole = plane_size // width * width
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        for f in range(F):
            start = (n * F + f) * plane_size
            total = vzero(sums)
            for i in range(start, start + whole, width):
                total = vadd(total, vload(dy, i))
            sums[f] += vsum(total)
            for i in range(start + whole, start + plane_size):
                sums[f] += dy[i]
        n = claim(chunks, counter, mine)
    db_parts[slot, :] = sums


def conv2d_backward_bias(dy: np.ndarray) -> np.ndarray:
    """db[f] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]: each thread sums its images' planes, then the threads' sums are added.

    One pass over dy, one addition per number: memory-bound, so below STREAM_SERIAL_BELOW numbers one
    thread does it (measured here, LeNet's second layer, 160 000 numbers: 0.03 ms on one thread,
    0.10 ms on two, where waking the helper and reading the other core's half of dy cost more).
    """
    dy = np.ascontiguousarray(dy)
    threads = 1 if dy.size < STREAM_SERIAL_BELOW else threads_for(dy.shape[0])
    db_parts = np.zeros((threads, dy.shape[1]), dtype=dy.dtype)
    if dy.size:
        args = (dy.reshape(-1), dy.shape[1], dy.shape[2] * dy.shape[3], db_parts)
        run_shared(_bias_grad_images, args, dy.shape[0], threads)
    return db_parts.sum(axis=0)
