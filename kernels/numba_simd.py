"""SIMD vectors for the Numba kernels: one register of numbers as a value, sized for the CPU Numba compiles for.

A modern x86-64 core does its arithmetic on vector registers: 16 bytes wide with SSE (4 float32
or 2 float64), 32 bytes with AVX/AVX2 (8 or 4), 64 bytes with AVX-512 (16 or 8), and one fused
multiply-add instruction (``vfmadd231ps``) does c += a·b for every lane at once. Numba leaves
the choice of vector instructions to LLVM's two vectorizers, which guess: on AVX-512 CPUs the
loop vectorizer vectorised our GEMM micro-kernel along the wrong loop, with gather and scatter
instructions and the register tile in memory, 50× slower than on an AVX2 CPU. The hot kernels
therefore say what they mean with the four operations of this file, and LLVM only picks the
registers:

    vload(a, i)        the vector a[i : i + LANES]          (one ``vmovups``)
    vstore(a, i, v)    a[i : i + LANES] = v
    vsplat(x)          the vector (x, x, ..., x)            (one ``vbroadcastss``)
    vfma(a, b, c)      a·b + c, lane by lane                (one ``vfmadd231ps``; mul + add without FMA)
    vsum(v)            v[0] + v[1] + ... (any order)        (a few shuffles and adds)

and vadd, vdiv, vzero, vsplat_at, vwidth, and scalar_loop(), which keeps LLVM's loop vectorizer off
a strided copy it would turn into gathers. The lane-wise choices the pools and ReLU need (selects,
integer ramps of pixel numbers, the stride-2 shuffles, masked loads and stores for the ragged end of
a row) are in numba_simd_lanes.py.

LANES = VECTOR_BYTES // itemsize follows from the CPU that Numba compiles for (the host, or
NUMBA_CPU_NAME / NUMBA_CPU_FEATURES), read once at import from what LLVM emits for that target
(numba_compile.isa):

    ISA        VECTOR_BYTES   float32 lanes   registers (VECTOR_REGISTERS)
    SSE2       16             4               16 xmm
    AVX, AVX2  32             8               16 ymm
    AVX-512    64             16              32 zmm

The kernels size their register tiles from these two numbers (see numba_matmul.py). vload and
vstore do no bounds checks: the caller makes sure that a[i : i + LANES] lies inside ``a`` (the
packed panels and the conv canvas are padded for it). They take 1-D C-contiguous arrays.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model
from numba.np.arrayobj import make_array

from . import numba_compile


def target_cpu() -> str:
    """The LLVM CPU name Numba compiles for: NUMBA_CPU_NAME if set, else the host's (e.g. "znver5")."""
    return numba_compile.target()[0]


def _vector_shape(isa: str) -> tuple[int, int, str]:
    """(VECTOR_BYTES, VECTOR_REGISTERS, ISA name) for numba_compile.isa()'s answer, e.g. "AVX2 (256-bit ymm, FMA)"."""
    name = isa.split(" ")[0]
    if name == "AVX-512":
        return 64, 32, name
    if name in ("AVX2", "AVX"):
        return 32, 16, name
    return 16, 16, name  # SSE, and 128-bit NEON elsewhere


# Read from the assembly LLVM writes for the target, not from the feature list: with
# NUMBA_CPU_NAME=haswell and an empty NUMBA_CPU_FEATURES, LLVM takes the features from the name
# (AVX2), which a feature list would not show.
VECTOR_BYTES, VECTOR_REGISTERS, ISA = _vector_shape(numba_compile.isa())
HAS_FMA = "no FMA" not in numba_compile.isa()


def lanes(itemsize: int) -> int:
    """Numbers of ``itemsize`` bytes in one vector register (16 float32 with AVX-512, 8 with AVX2, 4 with SSE)."""
    return VECTOR_BYTES // itemsize


def describe() -> str:
    """One line for a reader: the CPU, the ISA and the vector width the kernels compile for."""
    fma = " + FMA" if HAS_FMA else ""
    return f"{target_cpu()}, {ISA}{fma} ({VECTOR_BYTES * 8}-bit vectors, {VECTOR_REGISTERS} registers)"


class Vector(types.Type):
    """Numba's type for one register of ``lanes`` numbers of ``dtype`` (LLVM's <lanes x float>)."""

    def __init__(self, dtype: types.Float, count: int) -> None:
        self.dtype, self.count = dtype, count
        super().__init__(name=f"Vector({dtype} x {count})")


@register_model(Vector)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), fe_type.count))


def _vector_of(dtype: types.Type) -> Vector:
    if not isinstance(dtype, (types.Float, types.Integer)):
        raise numba.TypingError(f"numba_simd: vectors hold floats or integers, not {dtype}")
    return Vector(dtype, lanes(dtype.bitwidth // 8))


def _check_array(a: types.Type, what: str) -> None:
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"):
        raise numba.TypingError(f"numba_simd.{what}: needs a 1-D C-contiguous array, got {a}")


@intrinsic
def vload(typingctx, a, i):
    """The vector a[i : i + LANES] (unaligned, no bounds check)."""
    _check_array(a, "vload")
    vector = _vector_of(a.dtype)

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        llvm_vector = context.get_value_type(vector)
        pointer = builder.bitcast(builder.gep(data, [args[1]]), llvm_vector.as_pointer())
        return builder.load(pointer, align=a.dtype.bitwidth // 8, typ=llvm_vector)

    return vector(a, i), codegen


@intrinsic
def vstore(typingctx, a, i, v):
    """a[i : i + LANES] = v (unaligned, no bounds check)."""
    _check_array(a, "vstore")
    if v != _vector_of(a.dtype):
        raise numba.TypingError(f"numba_simd.vstore: {v} does not fit an array of {a.dtype}")

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(data, [args[1]]), args[2].type.as_pointer())
        builder.store(args[2], pointer, align=a.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(a, i, v), codegen


def _splat(builder: ir.IRBuilder, llvm_vector: ir.VectorType, x: ir.Value) -> ir.Value:
    one = builder.insert_element(ir.Constant(llvm_vector, ir.Undefined), x, ir.IntType(32)(0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), llvm_vector.count), [0] * llvm_vector.count)
    return builder.shuffle_vector(one, ir.Constant(llvm_vector, ir.Undefined), mask)


@intrinsic
def vsplat(typingctx, x):
    """The vector (x, x, ..., x)."""
    vector = _vector_of(x)

    def codegen(context, builder, signature, args):
        return _splat(builder, context.get_value_type(vector), args[0])

    return vector(x), codegen


@intrinsic
def vsplat_at(typingctx, a, i):
    """The vector (a[i], a[i], ..., a[i]): one number of an array broadcast (no bounds check).

    Unlike ``vsplat(a[i])`` no negative-index wrap-around is computed, so the load folds into
    the instruction that uses it (``vfmadd231ps (%rax){1to16}`` on AVX-512, ``vbroadcastss`` on AVX2).
    """
    _check_array(a, "vsplat_at")
    vector = _vector_of(a.dtype)

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        x = builder.load(builder.gep(data, [args[1]]), align=a.dtype.bitwidth // 8)
        return _splat(builder, context.get_value_type(vector), x)

    return vector(a, i), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """a·b + c lane by lane (LLVM's fmuladd: one fused multiply-add where the CPU has FMA)."""
    if not (isinstance(a, Vector) and a == b == c):
        raise numba.TypingError(f"numba_simd.vfma: needs three vectors of one type, got {a}, {b}, {c}")

    def codegen(context, builder, signature, args):
        llvm_vector = args[0].type
        suffix = f"v{a.count}f{a.dtype.bitwidth}"
        fmuladd = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(llvm_vector, [llvm_vector] * 3), f"llvm.fmuladd.{suffix}"
        )
        return builder.call(fmuladd, args)

    return a(a, b, c), codegen


@intrinsic
def vsum(typingctx, v):
    """v[0] + v[1] + ... + v[LANES−1], summed in whatever order is fastest (a tree of shuffles and adds)."""
    if not isinstance(v, Vector):
        raise numba.TypingError(f"numba_simd.vsum: needs a vector, got {v}")

    def codegen(context, builder, signature, args):
        element = context.get_value_type(v.dtype)
        suffix = f"v{v.count}f{v.dtype.bitwidth}"
        reduce = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(element, [element, args[0].type]), f"llvm.vector.reduce.fadd.{suffix}"
        )
        return builder.call(reduce, [ir.Constant(element, -0.0), args[0]], fastmath=("reassoc",))

    return v.dtype(v), codegen


@intrinsic
def vwidth(typingctx, a):
    """LANES for an array of ``a``'s dtype, as a constant the compiler sees (a loop step it can unroll by)."""
    _check_array(a, "vwidth")
    count = _vector_of(a.dtype).count

    def codegen(context, builder, signature, args):
        return context.get_constant(types.intp, count)

    return types.intp(a), codegen


@intrinsic
def vzero(typingctx, a):
    """The zero vector for an array of ``a``'s dtype: (0, 0, ..., 0)."""
    _check_array(a, "vzero")
    vector = _vector_of(a.dtype)

    def codegen(context, builder, signature, args):
        return ir.Constant(context.get_value_type(vector), None)

    return vector(a), codegen


@intrinsic
def vadd(typingctx, a, b):
    """a + b lane by lane (floats or integers)."""
    if not (isinstance(a, Vector) and a == b):
        raise numba.TypingError(f"numba_simd.vadd: needs two vectors of one type, got {a}, {b}")

    def codegen(context, builder, signature, args):
        add = builder.fadd if isinstance(a.dtype, types.Float) else builder.add
        return add(args[0], args[1])

    return a(a, b), codegen


@intrinsic
def vdiv(typingctx, a, b):
    """a / b lane by lane (floats)."""
    if not (isinstance(a, Vector) and a == b and isinstance(a.dtype, types.Float)):
        raise numba.TypingError(f"numba_simd.vdiv: needs two float vectors of one type, got {a}, {b}")

    def codegen(context, builder, signature, args):
        return builder.fdiv(args[0], args[1])

    return a(a, b), codegen


@intrinsic
def scalar_loop(typingctx):
    """Called in a loop body, keeps LLVM's loop vectorizer off that loop (an empty ``asm volatile``).

    For copies with a stride (packing, phase splits): on AVX-512 targets the vectorizer turns
    them into gather or scatter instructions, slower than the plain scalar loop.
    """

    def codegen(context, builder, signature, args):
        builder.asm(ir.FunctionType(ir.VoidType(), []), "", "", [], side_effect=True)
        return context.get_dummy_value()

    return types.none(), codegen
