"""The int8 GEMM in Numba: C = A @ B with int8 (or uint8) A, int8 B and exact int32 sums.

    Cᵢⱼ = Σₖ Aᵢₖ · Bₖⱼ        Aᵢₖ ∈ [−128, 127] (int8) or [0, 255] (uint8), Bₖⱼ ∈ [−128, 127]

This is the product a quantized layer runs (quantization/): every term is at most 255·128 = 32 640
in size, so int32 holds the sum of 65 793 terms without overflow, far more than any layer's K.

Plan. B is packed transposed, Bt[j] = column j of B, and A's rows are used as they are, both
zero-padded so that K is a whole number of vectors (zeros add nothing to a dot product). Then
each Cᵢⱼ is a dot product of two contiguous rows, computed a tile of 2 rows of A × 4 columns of
B at a time: per step the kernel loads 2 + 4 vectors of LANES numbers and does 8 vector
multiply-adds into 8 accumulators, so every load serves more than one multiply-add. At the end
of the row each accumulator is summed across its lanes (a horizontal add).

The vectors are explicit (as in numba_simd.py for the float kernels) rather than left to LLVM's
loop vectorizer: asked to vectorise the plain loop, LLVM widened int8 × int8 products to int64
(Numba types int32 · int32 as int64), and on Intel AVX-512 CPUs it preferred 256-bit vectors.
The four operations here say what they mean:

    vload32(a, i)           a[i : i + LANES] widened to int32: one ``vpmovsxbd`` (``vpmovzxbd`` for uint8)
    vmuladd32(x, y, acc)    acc + x·y lane by lane: ``vpmulld`` + ``vpaddd``
    vsum32(v)               v[0] + ... + v[LANES−1]: a few shuffles and ``vpaddd``
    vzero32(a)              (0, ..., 0)

LANES = VECTOR_BYTES // 4: 16 int32 in a 512-bit zmm register (AVX-512), 8 in a ymm (AVX2), 4
in an xmm (SSE). tests/kernels/test_numba_int8.py compiles the kernel for haswell,
skylake-avx512 and znver4 in subprocesses and reads the assembly: packed vpmulld and vpaddd of
the widest width, no gather, no scalar multiply in the inner loop.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model
from numba.np.arrayobj import make_array

from . import numba_compile
from .numba_simd import VECTOR_BYTES
from .numba_threads import run_tasks, split


def _pmaddwd() -> str | None:
    """LLVM's name for x86's ``pmaddwd`` at the vector width the kernels use; None where there is none.

    512-bit needs AVX-512BW (every AVX-512 CPU LLVM knows has it, but for Knights Landing/Mill) and 256-bit
    AVX2 (AVX alone has no 256-bit integer instructions); without them, and off x86, vdot2 writes the same
    sum as plain IR. The ISA is read from LLVM's own assembly for the target (numba_compile.isa), so that
    NUMBA_CPU_NAME=haswell with empty NUMBA_CPU_FEATURES is AVX2, as LLVM treats it.
    """
    import llvmlite.binding as ll

    if not ll.get_process_triple().startswith(("x86_64", "amd64", "i686", "i386")):
        return None
    isa = numba_compile.isa().split(" ")[0]
    cpu, features = numba_compile.target()
    if VECTOR_BYTES == 64:
        no_bw = cpu in ("knl", "knm") or "-avx512bw" in features.split(",")
        return None if no_bw else "llvm.x86.avx512.pmaddw.d.512"
    if VECTOR_BYTES == 32:
        return "llvm.x86.avx2.pmadd.wd" if isa == "AVX2" else None
    return "llvm.x86.sse2.pmadd.wd"


INPUT_DTYPES = ("int8", "uint8")  # what numba_compile.uncached asks about for this module
LANES = VECTOR_BYTES // 4  # int32 numbers per vector register
STEP = 2 * LANES  # numbers of K per step: one register of int16
PMADDWD = _pmaddwd()
B_BLOCK_BYTES = 128 * 1024  # a block of packed B columns, kept in L2 while every row of A passes it
ROWS, COLS = 2, 4  # the tile of C each call of the inner loop computes: 8 accumulators


class IntVector(types.Type):
    """Numba's type for one register of LANES int32 numbers (LLVM's <LANES x i32>)."""

    def __init__(self) -> None:
        super().__init__(name=f"IntVector(int32 x {LANES})")


_INT_VECTOR = IntVector()


@register_model(IntVector)
class _IntVectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.IntType(32), LANES))


def _check_bytes(a: types.Type, what: str) -> None:
    ok = isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.dtype in (types.int8, types.uint8)
    if not ok:
        raise numba.TypingError(f"numba_int8.{what}: needs a 1-D C-contiguous int8 or uint8 array, got {a}")


class PairVector(types.Type):
    """Numba's type for 2·LANES int16 numbers (LLVM's <2·LANES x i16>): one register of int16."""

    def __init__(self) -> None:
        super().__init__(name=f"PairVector(int16 x {2 * LANES})")


_PAIR_VECTOR = PairVector()


@register_model(PairVector)
class _PairVectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.IntType(16), 2 * LANES))


@intrinsic
def vload16(typingctx, a, i):
    """a[i : i + 2·LANES] widened to int16 (sign-extended for int8, zero-extended for uint8); no bounds check."""
    _check_bytes(a, "vload16")
    signed = a.dtype.signed

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        bytes_type = ir.VectorType(ir.IntType(8), 2 * LANES)
        pointer = builder.bitcast(builder.gep(data, [args[1]]), bytes_type.as_pointer())
        v = builder.load(pointer, align=1, typ=bytes_type)
        wide = ir.VectorType(ir.IntType(16), 2 * LANES)
        return builder.sext(v, wide) if signed else builder.zext(v, wide)

    return _PAIR_VECTOR(a, i), codegen


@intrinsic
def vdot2(typingctx, x, y, acc):
    """acc[l] + x[2l]·y[2l] + x[2l+1]·y[2l+1] for every int32 lane l (x86's ``vpmaddwd`` + ``vpaddd``).

    On x86 it calls the instruction's LLVM intrinsic (PMADDWD: LLVM does not find it in the plain
    widen-multiply-add IR); elsewhere that plain IR. Exact: each product of numbers that came from
    bytes is at most 2¹⁵ in size, and so is the sum of two.
    """
    if not (x == y == _PAIR_VECTOR and acc == _INT_VECTOR):
        raise numba.TypingError(f"numba_int8.vdot2: needs two int16 vectors and an int32 one, got {x}, {y}, {acc}")

    def codegen(context, builder, signature, args):
        wide = ir.VectorType(ir.IntType(32), LANES)
        if PMADDWD is not None:  # x86: the instruction itself
            pmaddwd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(wide, [args[0].type] * 2), PMADDWD)
            return builder.add(args[2], builder.call(pmaddwd, [args[0], args[1]]))
        i32 = ir.IntType(32)  # elsewhere: the same sum in generic IR, for LLVM to map to the CPU
        halves = [ir.Constant(ir.VectorType(i32, LANES), list(range(h, 2 * LANES, 2))) for h in (0, 1)]
        x, y = ([builder.sext(builder.shuffle_vector(v, v, h), wide) for h in halves] for v in args[:2])
        return builder.add(args[2], builder.add(builder.mul(x[0], y[0]), builder.mul(x[1], y[1])))

    return _INT_VECTOR(x, y, acc), codegen


@intrinsic
def vsum32(typingctx, v):
    """v[0] + v[1] + ... + v[LANES − 1] as one int32."""
    if v != _INT_VECTOR:
        raise numba.TypingError(f"numba_int8.vsum32: needs an int32 vector, got {v}")

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        reduce = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i32, [args[0].type]), f"llvm.vector.reduce.add.v{LANES}i32"
        )
        return builder.call(reduce, [args[0]])

    return types.int32(v), codegen


@intrinsic
def vzero32(typingctx, a):
    """The int32 zero vector (``a`` only fixes the call's types)."""

    def codegen(context, builder, signature, args):
        return ir.Constant(ir.VectorType(ir.IntType(32), LANES), None)

    return _INT_VECTOR(a), codegen


@njit(cache=True, nogil=True)
def _gemm_rows(ap, bp, c, kp, r0, r1):
    """C[r0:r1] = A[r0:r1] @ B, from packed rows: ap[i·kp :] is row i of A, bp[j·kp :] is column j of B.

    Both are zero-padded to kp (a multiple of LANES) columns, and to whole tiles of ROWS and COLS
    rows; c is (M, N) int32 and only its real entries are written.
    """
    m, n = c.shape
    n_cols = bp.size // kp
    block = max(COLS, B_BLOCK_BYTES // kp // COLS * COLS)  # columns of B that stay in L2 while all rows pass
    for j0 in range(0, n_cols, block):
        _gemm_block(ap, bp, c, kp, r0, r1, j0, min(n_cols, j0 + block))


@njit(cache=True, nogil=True)
def _gemm_block(ap, bp, c, kp, r0, r1, j0, j1):
    """C[r0:r1, j0:j1] from packed rows (see _gemm_rows): the 2 × 4 register tiles, one after another."""
    m, n = c.shape
    for i in range(r0, r1, ROWS):
        a0, a1 = ap[i * kp : (i + 1) * kp], ap[(i + 1) * kp : (i + 2) * kp]
        for j in range(j0, j1, COLS):
            b0, b1 = bp[j * kp : (j + 1) * kp], bp[(j + 1) * kp : (j + 2) * kp]
            b2, b3 = bp[(j + 2) * kp : (j + 3) * kp], bp[(j + 3) * kp : (j + 4) * kp]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = vzero32(ap)
            for k in range(0, kp, STEP):
                x0, x1 = vload16(a0, k), vload16(a1, k)
                y0, y1, y2, y3 = vload16(b0, k), vload16(b1, k), vload16(b2, k), vload16(b3, k)
                s00, s01 = vdot2(x0, y0, s00), vdot2(x0, y1, s01)
                s02, s03 = vdot2(x0, y2, s02), vdot2(x0, y3, s03)
                s10, s11 = vdot2(x1, y0, s10), vdot2(x1, y1, s11)
                s12, s13 = vdot2(x1, y2, s12), vdot2(x1, y3, s13)
            sums = (vsum32(s00), vsum32(s01), vsum32(s02), vsum32(s03),
                    vsum32(s10), vsum32(s11), vsum32(s12), vsum32(s13))  # fmt: skip
            for t in range(ROWS * COLS):
                row, col = i + t // COLS, j + t % COLS
                if row < m and col < n:
                    c[row, col] = sums[t]


def _pack(rows: np.ndarray, n_rows: int, kp: int) -> np.ndarray:
    """``rows`` (R, K) copied into a zero (n_rows, kp) array, flattened: whole tiles, K a multiple of LANES."""
    packed = np.zeros((n_rows, kp), dtype=rows.dtype)
    packed[: rows.shape[0], : rows.shape[1]] = rows
    return packed.reshape(-1)


def matmul_int8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B, (M, K) int8 or uint8 @ (K, N) int8 → (M, N) int32, every sum exact.

    The rows of C are shared between numba.get_num_threads() threads (numba_threads.run_tasks)
    when the product is large enough to be worth it.
    """
    if a.dtype not in (np.int8, np.uint8) or b.dtype != np.int8:
        raise TypeError(f"numba matmul_int8: needs int8 or uint8 @ int8 arrays, got {a.dtype} @ {b.dtype}")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"numba matmul_int8: shapes {a.shape} @ {b.shape} are not (M, K) @ (K, N)")
    (m, k), n = a.shape, b.shape[1]
    c = np.zeros((m, n), dtype=np.int32)
    if c.size == 0 or k == 0:
        return c
    kp = -(-k // STEP) * STEP
    mp, np_ = -(-m // ROWS) * ROWS, -(-n // COLS) * COLS
    ap, bp = _pack(a, mp, kp), _pack(b.T, np_, kp)
    threads = 1 if m * n * k < 1 << 20 else numba.get_num_threads()
    chunks = [(r0, r1) for r0, r1 in split(mp // ROWS, threads)]
    run_tasks(_gemm_rows, [(ap, bp, c, kp, r0 * ROWS, r1 * ROWS) for r0, r1 in chunks if r1 > r0])
    return c
