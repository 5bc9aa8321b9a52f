"""Matrix multiplication written out by hand in Numba: the blocked GEMM that BLAS libraries use.

C = A @ B is Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ: three loops and 2·M·N·K flops. The naive i-j-k loop runs at a few
GFLOP/s because it waits on memory; this file reaches a good fraction of OpenBLAS with the plan of
BLIS/GotoBLAS (Van Zee & van de Geijn, "BLIS", 2015), five loops around a micro-kernel, each loop
chosen so that one piece of data stays in one level of the cache:

    for jc in 0..N step NC:           5th loop  B block  Bp (KC × NC)  stays in L3
      for pc in 0..K step KC:         4th loop  pack B[pc:pc+KC, jc:jc+NC] into Bp
        for ic in 0..M step MC:       3rd loop  pack A[ic:ic+MC, pc:pc+KC] into Ap, stays in L2
          for jr in 0..NC step NR:    2nd loop  one micro-panel of Bp (KC × NR) stays in L1
            for ir in 0..MC step MR:  1st loop  one micro-panel of Ap (KC × MR) streams through L1
              micro-kernel: C[MR × NR] += Ap-panel @ Bp-panel, the tile held in registers

Packing copies a block into the order the micro-kernel reads it: every load is then contiguous,
one TLB page serves many loads, odd sizes are padded with zeros to whole tiles (so the
micro-kernel never needs an edge case), and non-contiguous or transposed inputs cost nothing
extra, since they are read through their strides once, while packing.

The micro-kernel is where the flops happen. Per step k it loads NV vectors of B (one row of the
Bp panel, NR = NV·LANES numbers), broadcasts MR = 6 numbers of A and issues MR·NV fused
multiply-adds into an MR × NR tile of C that lives in vector registers for the whole K slice.
The tile is sized to the register file of the CPU Numba compiles for (numba_simd.py):

    ISA       registers   NV   tile float32 (float64)   accumulators + B + broadcast
    SSE       16 xmm      2    6 × 8   (6 × 4)          12 + 2 + 1 = 15 of 16
    AVX2      16 ymm      2    6 × 16  (6 × 8)          12 + 2 + 1 = 15 of 16
    AVX-512   32 zmm      4    6 × 64  (6 × 32)         24 + 4 + 1 = 29 of 32

Enough accumulators hide the FMA latency: two FMA units × 4 cycles need ≥ 8 independent sums in
flight, and 12 or 24 leave room. The kernel is written with explicit vectors (vload, vsplat,
vfma from numba_simd.py) rather than left to LLVM's vectorizers: on AVX-512 CPUs the loop
vectorizer vectorised a plain-loop version along k, with gather/scatter instructions and the
tile in memory, 50× slower. Two more things keep the tile in registers:
  1. It must be provably private, or LLVM keeps it in memory (one load and one store per
     FMA): a NumPy array in Numba lives on the heap and LLVM cannot prove it is not also A or B.
     ``_register_tile`` puts it on the stack instead (an LLVM ``alloca``), which LLVM promotes
     to registers once the loops over the tile (constant trip counts MR and NV) are unrolled.
  2. Every index counts up from 0 inside its own view (see _micro_kernel).
tests/kernels/test_numba_asm.py compiles this kernel for several CPUs (haswell, skylake-avx512,
icelake-server, znver3, znver4, the host) and checks its inner loop: MR·NV packed FMAs of the
widest width, no gather or scatter, no load or store of the tile. ``fastmath={"contract"}``
only allows the fused multiply-add; it does not reorder sums, so NaN and inf propagate as in
NumPy.

The cores share the work as tasks: a task is a whole serial GEMM on a range of rows of C, or of
its columns when C is wider than tall, or on a range of matrices of a stack, with its own packing
buffers, so threads never wait for each other inside a product. A row range packs its rows of A
and all of B; a column range all of A and its columns of B: the larger factor is the one cut.
(The seed MLP's first layer, x @ Wᵀ with 128 rows and 500 columns: cut by rows, each thread packed
the whole 1000 × 500 Wᵀ, 0.69 ms at 2 threads; by columns 0.52 ms, znver5, with another program on the machine.)
The tasks run on Python threads (``run_tasks``); the kernels are compiled with ``nogil=True``,
so the threads compute in parallel. Numba's ``prange`` does the same job and was measured
first: on this 2-core machine shared with other jobs, a ``prange`` loop over 1.6 ms of work
took 8 ms under Numba's default OpenMP layer whenever the other core was busy (its idle
threads spin, then sleep on a timer) and 1.7 ms with threads that block while they wait; and
every ``parallel=True`` function compiled 4–5 s longer, per dtype.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numba
import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from .numba_simd import VECTOR_BYTES, VECTOR_REGISTERS, scalar_loop, vadd, vfma, vload, vsplat, vstore, vzero
from .numba_threads import mark_started, run_tasks, split

# The register tile (see the table above): MR rows, NV vectors per row.
MR = 6  # rows of the register tile: 6 broadcasts of A per step k
NV = 4 if VECTOR_REGISTERS >= 32 else 2  # vectors per row: 24 accumulators in 32 registers, 12 in 16
NR_BYTES = NV * VECTOR_BYTES  # a row of the tile in bytes: 8 (SSE) to 64 (AVX-512) float32 columns
# Block sizes. KC·MR·itemsize (an Ap micro-panel, 12 KiB float32) stays in L1; a Bp micro-panel
# KC × NR (32 KiB float32 on AVX2, 128 KiB on AVX-512) and the A block MC × KC stay in L2.
KC = 512  # depth of a K slice: each micro-kernel call runs 512 steps between loads and stores of C
MC_BYTES = 256 * 1024  # an A block MC × KC: 126 rows float32, 60 float64
NC = 4096  # width of a B block (KC × NC in L3); a multiple of NR for every dtype and ISA
SERIAL_BELOW = 1 << 23  # fewer multiply-adds than this (a 200³ product, ~40 µs): one thread does it all;
# below it, waking a second thread (tens of µs when another program holds the other core) costs more than
# it saves: the bench measured 128³ at 2 threads 0.41× the speed of 1 thread on a busy 2-core machine


def _blocks(itemsize: int, m: int, n: int, k: int) -> tuple[int, int, int, int]:
    """(MC, KC, NC, NR) for an (m, k) @ (k, n) product: the constants above, shrunk to the matrices."""
    nr = tile_cols(itemsize)
    kc = min(KC, k)
    mc = min(block_rows(itemsize), (m + MR - 1) // MR * MR)
    nc = min(NC, (n + nr - 1) // nr * nr)
    return mc, kc, nc, nr


def tile_cols(itemsize: int) -> int:
    """NR: the columns of the register tile for elements of ``itemsize`` bytes (NV vectors: 16 float32 on AVX2)."""
    return NR_BYTES // itemsize


def block_rows(itemsize: int) -> int:
    """MC: the rows of a packed A block (a multiple of MR), MC·KC·itemsize ≈ MC_BYTES."""
    return max(MR, MC_BYTES // (KC * itemsize) // MR * MR)


_slp_users = 0  # callers inside _slp_vectorizer() now (threads may overlap)
_slp_lock = threading.Lock()
_slp_previous = 0


@contextlib.contextmanager
def _slp_vectorizer() -> Iterator[None]:
    """Compile with LLVM's SLP vectorizer on (Numba's default is off); the setting comes back after.

    Numba compiles a signature on its first call, so the kernels' entry points are called inside
    this block. Counted, so that one thread leaving cannot switch it off under another one.
    """
    global _slp_users, _slp_previous
    with _slp_lock:
        if _slp_users == 0:
            _slp_previous = numba.config.SLP_VECTORIZE
            numba.config.SLP_VECTORIZE = 1
        _slp_users += 1
    try:
        yield
    finally:
        with _slp_lock:
            _slp_users -= 1
            if _slp_users == 0:
                numba.config.SLP_VECTORIZE = _slp_previous


@intrinsic
def _register_tile(typingctx, dtype):
    """An MR × NR tile of ``dtype`` on the stack of the calling function (an LLVM alloca), flat: row i at [i·NR].

    Unlike np.empty (heap memory that might be any other array), an alloca provably aliases
    nothing, so once the loops over it are unrolled LLVM keeps each of its vectors in a register.
    It must not outlive the function that made it: never return it.
    """
    itemsize = dtype.dtype.bitwidth // 8
    size = MR * tile_cols(itemsize)
    array_type = types.Array(dtype.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        element = context.get_value_type(dtype.dtype)
        data = cgutils.alloca_once(builder, element, size=size)
        tile = make_array(array_type)(context, builder)
        intp = context.get_value_type(types.intp)
        populate_array(
            tile, data=data, shape=[intp(size)], strides=[intp(itemsize)], itemsize=intp(itemsize), meminfo=None
        )
        return tile._getvalue()

    return array_type(dtype), codegen


@njit(fastmath={"contract"}, cache=True)
def _micro_kernel(kc, ap, bp, c, ldc, rows, cols, accumulate):
    """C-tile (+)= one Ap micro-panel @ one Bp micro-panel, the MR × NR tile held in registers.

    ap[p·MR + i] = A[i, p] and bp[p·NR + j] = B[p, j] (packed, zero-padded), so step p is an
    outer product: a column of MR numbers of A times a row of NR numbers of B (NV vectors).
    The tile is flat, row i at acc[i·NR]. C is addressed like BLAS: ``c`` is a 1-D view starting
    at the tile's corner and row i starts at c[i·ldc]; only the rows × cols part of the tile that
    lies inside C is written back. Every index counts up from 0 inside its own view, which lets
    Numba drop its negative-index checks.
    """
    acc = _register_tile(c.dtype)
    nr = acc.size // MR
    width = nr // NV  # numbers per vector
    for t in range(0, MR * nr, width):
        vstore(acc, t, vzero(acc))
    for p in range(kc):
        for i in range(MR):
            a = vsplat(ap[p * MR + i])  # one broadcast of A ...
            for v in range(NV):
                b = vload(bp, p * nr + v * width)  # ... times the NV vectors of B's row p (loaded once per p)
                t = i * nr + v * width
                vstore(acc, t, vfma(a, b, vload(acc, t)))
    _store_tile(acc, c, ldc, rows, cols, accumulate)


@njit(cache=True)
def _store_tile(acc, c, ldc, rows, cols, accumulate):
    """C-tile (+)= acc, for the rows × cols part of the MR × NR tile inside C (c[i·ldc + j] is C[i, j])."""
    nr = acc.size // MR
    width = nr // NV
    for i in range(min(rows, MR)):
        row = c[i * ldc : i * ldc + cols]  # contiguous: a whole row of the tile is NV vector stores
        if cols == nr:
            for v in range(NV):
                x = vload(acc, i * nr + v * width)
                if accumulate:
                    x = vadd(x, vload(row, v * width))
                vstore(row, v * width, x)
        else:  # the ragged right edge of C
            src = acc[i * nr : i * nr + cols]
            for j in range(cols):
                row[j] = row[j] + src[j] if accumulate else src[j]


@njit(cache=True)
def _pack_a(a, lda, a_t, ic, mc, pc, kc, ap):
    """Copy A[ic:ic+mc, pc:pc+kc] into ap as MR-row micro-panels: ap[r·kc·MR + p·MR + i].

    A[i, p] is a[i·lda + p], or a[p·lda + i] when ``a_t`` says that a holds Aᵀ (a transposed
    view, read without a copy). Rows past mc are zeros: the micro-kernel only sees whole tiles.
    """
    for r in range((mc + MR - 1) // MR):
        rows = min(MR, mc - r * MR)
        panel = ap[r * kc * MR : (r + 1) * kc * MR]
        if rows < MR:
            panel[:] = 0
        i0 = ic + r * MR
        if a_t:
            for p in range(kc):
                src = a[(pc + p) * lda + i0 : (pc + p) * lda + i0 + rows]  # along a row of Aᵀ
                for i in range(rows):
                    panel[p * MR + i] = src[i]
        else:
            for i in range(rows):
                src = a[(i0 + i) * lda + pc : (i0 + i) * lda + pc + kc]  # along a row of A
                for p in range(kc):
                    scalar_loop()  # a store every MR numbers: LLVM would make it a scatter on AVX-512
                    panel[p * MR + i] = src[p]


@njit(cache=True)
def _pack_b(b, ldb, b_t, pc, kc, jc, nc, nr, bp):
    """Copy B[pc:pc+kc, jc:jc+nc] into bp as NR-column micro-panels: bp[q·kc·NR + p·NR + j].

    B[p, j] is b[p·ldb + j], or b[j·ldb + p] when ``b_t`` says that b holds Bᵀ. Columns past
    nc are zeros.
    """
    for q in range((nc + nr - 1) // nr):
        cols = min(nr, nc - q * nr)
        panel = bp[q * kc * nr : (q + 1) * kc * nr]
        if cols < nr:
            panel[:] = 0
        j0 = jc + q * nr
        if b_t:
            for j in range(cols):
                src = b[(j0 + j) * ldb + pc : (j0 + j) * ldb + pc + kc]  # along a row of Bᵀ
                for p in range(kc):
                    panel[p * nr + j] = src[p]
        else:
            for p in range(kc):
                src = b[(pc + p) * ldb + j0 : (pc + p) * ldb + j0 + cols]  # along a row of B
                dst = panel[p * nr : p * nr + cols]
                for j in range(cols):
                    dst[j] = src[j]


@njit(cache=True)
def _macro_kernel(ap, bp, c, ldc, mc, nc, kc, nr, accumulate):
    """The two inner loops: C-block (mc × nc, from c[0], row stride ldc) (+)= Ap block @ Bp block.

    jr outside: one Bp micro-panel (kc·NR numbers, 16 KiB) stays in L1 while every Ap
    micro-panel of the block (in L2) streams past it.
    """
    for jr in range(0, nc, nr):  # 2nd loop
        for ir in range(0, mc, MR):  # 1st loop
            tile = c[ir * ldc + jr :]
            _micro_kernel(kc, ap[ir * kc :], bp[jr * kc :], tile, ldc, min(MR, mc - ir), min(nr, nc - jr), accumulate)


@njit(cache=True)
def _gemm(a, lda, a_t, b, ldb, b_t, c, ldc, m, n, k, ap, bp, blocks):
    """C = A @ B (m × k times k × n) on one thread: the five loops of the module docstring, in order.

    Matrices are 1-D views with a row stride (BLAS's lda, ldb, ldc). ap holds one packed A
    block (MC × KC), bp one packed B block (KC × NC).
    """
    mc_max, kc_max, nc_max, nr = blocks
    for jc in range(0, n, nc_max):  # 5th loop: a B block for L3
        nc = min(nc_max, n - jc)
        for pc in range(0, k, kc_max):  # 4th loop: a K slice; the first one stores C, the others add
            kc = min(kc_max, k - pc)
            _pack_b(b, ldb, b_t, pc, kc, jc, nc, nr, bp)
            for ic in range(0, m, mc_max):  # 3rd loop: an A block for L2
                mc = min(mc_max, m - ic)
                _pack_a(a, lda, a_t, ic, mc, pc, kc, ap)
                _macro_kernel(ap, bp, c[ic * ldc + jc :], ldc, mc, nc, kc, nr, pc > 0)


@njit(cache=True, nogil=True)
def _gemm_task(a, a_t, b, b_t, c, shape, task, blocks, started):
    """One thread's share of C[i] = A[i] @ B[i]: matrices i0 ≤ i < i1, rows r0 ≤ r < r1 and columns c0 ≤ j < c1 of each.

    a, b, c are the whole stacks, flat; shape = (batch, m, n, k); task = (i0, i1, r0, r1, c0, c1);
    ``started`` counts the tasks begun (see run_tasks: the caller holds back for a polling helper).
    """
    mark_started(started)
    batch, m, n, k = shape
    i0, i1, r0, r1, c0, c1 = task
    mc, kc, nc, nr = blocks
    ap, bp = np.empty(mc * kc, dtype=c.dtype), np.empty(kc * nc, dtype=c.dtype)
    lda, ldb = (m if a_t else k), (k if b_t else n)
    for i in range(i0, i1):
        # Rows r0.. of A[i]: further down A, or further along each row of Aᵀ; columns c0.. of B[i] likewise.
        a_rows = a[i * m * k + r0 :] if a_t else a[i * m * k + r0 * k :]
        b_cols = b[i * k * n + c0 * k :] if b_t else b[i * k * n + c0 :]
        c_part = c[i * m * n + r0 * n + c0 :]
        _gemm(a_rows, lda, a_t, b_cols, ldb, b_t, c_part, n, r1 - r0, c1 - c0, k, ap, bp, blocks)


def _c_or_transposed(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """x as a C-contiguous array, or its (C-contiguous) transpose and True: packing reads either.

    Only other strided views (slices with steps, broadcasts) are copied.
    """
    if x.flags.c_contiguous:
        return x, False
    xt = x.swapaxes(-1, -2)
    if xt.flags.c_contiguous:
        return xt, True
    return np.ascontiguousarray(x), False


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B for (M, K) @ (K, N), or per matrix for (B, M, K) @ (B, K, N), float32 or float64.

    Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ, computed by the blocked, packed, register-tiled loops of this module.
    """
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"numba matmul: needs two float32 or two float64 arrays, got {a.dtype} and {b.dtype}")
    if a.ndim != b.ndim or a.ndim not in (2, 3) or a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"numba matmul: shapes {a.shape} @ {b.shape} are not (M, K) @ (K, N) or (B, M, K) @ (B, K, N)")
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    c = np.empty(a.shape[:-2] + (m, n), dtype=a.dtype)
    if c.size == 0:
        return c
    if k == 0:
        c[...] = 0
        return c
    a, a_t = _c_or_transposed(a)
    b, b_t = _c_or_transposed(b)
    batch = 1 if c.ndim == 2 else c.shape[0]
    threads = 1 if batch * m * n * k < SERIAL_BELOW else numba.get_num_threads()
    if batch >= threads:  # whole matrices per task
        tasks = [(i0, i1, 0, m, 0, n) for i0, i1 in split(batch, threads)]
        rows, cols = m, n
    elif m >= n:  # row ranges of each matrix per task (the row count of a range a multiple of MR)
        rows, cols = (-(-m // threads) + MR - 1) // MR * MR, n
        tasks = [(i, i + 1, r0, min(m, r0 + rows), 0, n) for i in range(batch) for r0 in range(0, m, rows)]
    else:  # column ranges (a multiple of NR): each task packs only its part of B, the larger factor
        nr = tile_cols(a.dtype.itemsize)
        rows, cols = m, (-(-n // threads) + nr - 1) // nr * nr
        tasks = [(i, i + 1, 0, m, c0, min(n, c0 + cols)) for i in range(batch) for c0 in range(0, n, cols)]
    blocks = _blocks(a.dtype.itemsize, rows, cols, k)
    args = (a.reshape(-1), a_t, b.reshape(-1), b_t, c.reshape(-1), (batch, m, n, k))
    with _slp_vectorizer():
        started = np.zeros(1, dtype=np.int64)
        run_tasks(_gemm_task, [(*args, task, blocks, started) for task in tasks], started=started)
    return c
