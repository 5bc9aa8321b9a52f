"""Lane-wise choices for the Numba kernels: selects, integer ramps, shuffles and the ragged end of a row.

numba_simd.py gives the vector and its arithmetic; the pools and ReLU also need to choose, lane by
lane, and to carry a pixel number beside a value:

    vramp(a, start, step)        (start, start + step, ..., start + (LANES−1)·step): pixel numbers
    vwhere_gt(a, b, x, y)        x where a > b, else y (a NaN is never greater): with x = a, y = b, the max
    vwhere_nan(a, x, y)          x where a is NaN, else y
    vwhere_gt_or_nan(a, b, x, y) x where a > b or a is NaN: a running max in which a NaN wins and stays
    vwhere_eq(a, b, x, y)        x where the integers a == b, else y
    vcount_eq(a, b)              how many lanes of the integers a and b are equal
    veven(a, b), vodd(a, b)      the even (odd) lanes of a, then of b: a stride-2 row split in two
    vzip_lo(a, b), vzip_hi(a, b) (a[0], b[0], a[1], b[1], ...): the split undone, in two halves
    vload_first(a, i, like, n)   a[i : i + n] in a vector of like's lane count, lanes from n on 0
    vstore_first(a, i, v, n)     a[i : i + n] = the first n lanes of v (integers widened to a's type)

The last two are the ragged end of a row: a pool of 5 outputs per row fills 5 of 16 AVX-512
lanes, and a masked load or store (``vmovups … {%k1}`` on AVX-512, ``vmaskmovps`` on AVX2; LLVM's
llvm.masked.load / llvm.masked.store) touches exactly those numbers, so no scalar loop is needed for
the rest and nothing past the end of the array is read or written. An integer vector may hold more
lanes than its type gives by itself (16 int64 pixel numbers beside 16 float32 values: two zmm
registers): ``vload_first`` takes the lane count of ``like``, and ``vramp`` may take a vector as its
model instead of an array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

from .numba_simd import Vector, _check_array, _splat, _vector_of


def _int_vector_like(a: types.Type, what: str) -> Vector:
    """The integer vector type vramp makes from ``a``: a 1-D integer array's own, or an integer vector's."""
    if isinstance(a, Vector) and isinstance(a.dtype, types.Integer):
        return a
    _check_array(a, what)
    if not isinstance(a.dtype, types.Integer):
        raise numba.TypingError(f"numba_simd.{what}: needs an integer array or vector, got {a}")
    return _vector_of(a.dtype)


@intrinsic
def vramp(typingctx, a, start, step):
    """The integer vector (start, start + step, ..., start + (LANES−1)·step), typed like ``a`` (array or vector)."""
    vector = _int_vector_like(a, "vramp")

    def codegen(context, builder, signature, args):
        llvm_vector = context.get_value_type(vector)
        start_, step_ = (context.cast(builder, v, t, vector.dtype) for v, t in zip(args[1:], signature.args[1:]))
        lanes_ = ir.Constant(llvm_vector, list(range(vector.count)))
        steps = builder.mul(_splat(builder, llvm_vector, step_), lanes_)
        return builder.add(_splat(builder, llvm_vector, start_), steps)

    return vector(a, start, step), codegen


def _check_select(what: str, a: types.Type, x: types.Type, y: types.Type, kind: type = types.Float) -> None:
    ok = isinstance(a, Vector) and isinstance(a.dtype, kind) and isinstance(x, Vector) and x == y
    if not (ok and x.count == a.count):
        need = f"a {kind.__name__} vector and two of its length"
        raise numba.TypingError(f"numba_simd.{what}: needs {need}, got {a}, {x}, {y}")


@intrinsic
def vwhere_gt(typingctx, a, b, x, y):
    """Lane by lane, x where a > b, else y (a NaN is never greater); with x = a and y = b, the max."""
    if a != b:
        raise numba.TypingError(f"numba_simd.vwhere_gt: compares two vectors of one type, got {a}, {b}")
    _check_select("vwhere_gt", a, x, y)

    def codegen(context, builder, signature, args):
        return builder.select(builder.fcmp_ordered(">", args[0], args[1]), args[2], args[3])

    return x(a, b, x, y), codegen


@intrinsic
def vwhere_nan(typingctx, a, x, y):
    """x where a is NaN, else y, lane by lane."""
    _check_select("vwhere_nan", a, x, y)

    def codegen(context, builder, signature, args):
        return builder.select(builder.fcmp_unordered("uno", args[0], args[0]), args[1], args[2])

    return x(a, x, y), codegen


@intrinsic
def vwhere_gt_or_nan(typingctx, a, b, x, y):
    """x where a > b or a is NaN, else y: the step of a running max in which the last NaN wins and stays.

    Once the running max b is NaN, no number is greater than it, so only a later NaN replaces it.
    """
    if a != b:
        raise numba.TypingError(f"numba_simd.vwhere_gt_or_nan: compares two vectors of one type, got {a}, {b}")
    _check_select("vwhere_gt_or_nan", a, x, y)

    def codegen(context, builder, signature, args):
        greater = builder.fcmp_ordered(">", args[0], args[1])
        nan = builder.fcmp_unordered("uno", args[0], args[0])
        return builder.select(builder.or_(greater, nan), args[2], args[3])

    return x(a, b, x, y), codegen


@intrinsic
def vwhere_eq(typingctx, a, b, x, y):
    """x where the integer lanes a == b, else y (x, y of a's lane count, any type)."""
    if a != b:
        raise numba.TypingError(f"numba_simd.vwhere_eq: compares two vectors of one type, got {a}, {b}")
    _check_select("vwhere_eq", a, x, y, types.Integer)

    def codegen(context, builder, signature, args):
        return builder.select(builder.icmp_signed("==", args[0], args[1]), args[2], args[3])

    return x(a, b, x, y), codegen


@intrinsic
def vcount_eq(typingctx, a, b):
    """How many lanes of the integer vectors a and b are equal (a compare, a mask, a population count)."""
    if not (isinstance(a, Vector) and a == b and isinstance(a.dtype, types.Integer)):
        raise numba.TypingError(f"numba_simd.vcount_eq: needs two integer vectors of one type, got {a}, {b}")

    def codegen(context, builder, signature, args):
        bits = ir.IntType(a.count)
        mask = builder.bitcast(builder.icmp_signed("==", args[0], args[1]), bits)
        ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(bits, [bits]), f"llvm.ctpop.i{a.count}")
        return builder.zext(builder.call(ctpop, [mask]), ir.IntType(64))

    return types.int64(a, b), codegen


def _half_shuffle(what: str, lanes_of_half: Callable[[int], list[int]], doc: str) -> Any:
    """An intrinsic that picks lanes_of_half(LANES) of the pair (a, b), lanes L.. being b's."""

    def typer(typingctx, a, b):
        if not (isinstance(a, Vector) and a == b):
            raise numba.TypingError(f"numba_simd.{what}: needs two vectors of one type, got {a}, {b}")

        def codegen(context, builder, signature, args):
            mask = ir.Constant(ir.VectorType(ir.IntType(32), a.count), lanes_of_half(a.count))
            return builder.shuffle_vector(args[0], args[1], mask)

        return a(a, b), codegen

    typer.__name__, typer.__doc__ = what, doc
    return intrinsic(typer)


def _zip(first: int):
    """Lanes (first, L + first, first + 1, L + first + 1, ...) of the pair (a, b): a and b interleaved."""
    return lambda count: [lane for j in range(first, first + count // 2) for lane in (j, count + j)]


veven = _half_shuffle(
    "veven",
    lambda count: list(range(0, 2 * count, 2)),
    "(a[0], a[2], ..., b[0], b[2], ...): the even lanes of a, then of b.",
)
vodd = _half_shuffle(
    "vodd",
    lambda count: list(range(1, 2 * count, 2)),
    "(a[1], a[3], ..., b[1], b[3], ...): the odd lanes of a, then of b.",
)
vzip_lo = _half_shuffle("vzip_lo", _zip(0), "(a[0], b[0], a[1], b[1], ...): a and b interleaved, the first half.")
vzip_hi = _half_shuffle(
    "vzip_hi", lambda count: _zip(count // 2)(count), "(a[L/2], b[L/2], a[L/2+1], ...): the second half."
)


def _first(builder: ir.IRBuilder, count: int, n: ir.Value) -> ir.Value:
    """The mask <count x i1> of lanes 0 .. n−1."""
    index = ir.VectorType(ir.IntType(64), count)
    return builder.icmp_signed("<", ir.Constant(index, list(range(count))), _splat(builder, index, n))


def _suffix(vector: ir.VectorType) -> str:
    element = vector.element
    kind = f"i{element.width}" if isinstance(element, ir.IntType) else {"float": "f32", "double": "f64"}[str(element)]
    return f"v{vector.count}{kind}.p0"


@intrinsic
def vload_first(typingctx, a, i, like, n):
    """The vector (a[i], ..., a[i + n − 1], 0, ..., 0) with like's lane count: nothing past a[i + n − 1] is read."""
    _check_array(a, "vload_first")
    if not isinstance(like, Vector):
        raise numba.TypingError(f"numba_simd.vload_first: needs a vector to take the lane count from, got {like}")
    vector = Vector(a.dtype, like.count)

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        llvm_vector = context.get_value_type(vector)
        pointer = builder.bitcast(builder.gep(data, [args[1]]), llvm_vector.as_pointer())
        count = context.cast(builder, args[3], signature.args[3], types.int64)
        align = ir.IntType(32)(a.dtype.bitwidth // 8)
        mask = ir.VectorType(ir.IntType(1), like.count)
        fn = ir.FunctionType(llvm_vector, [pointer.type, ir.IntType(32), mask, llvm_vector])
        load = cgutils.get_or_insert_function(builder.module, fn, f"llvm.masked.load.{_suffix(llvm_vector)}")
        return builder.call(load, [pointer, align, _first(builder, like.count, count), ir.Constant(llvm_vector, None)])

    return vector(a, i, like, n), codegen


@intrinsic
def vstore_first(typingctx, a, i, v, n):
    """a[i : i + n] = v[0 : n]; nothing else is written. Integer lanes are sign-extended to a wider ``a``."""
    _check_array(a, "vstore_first")
    widen = isinstance(a.dtype, types.Integer) and isinstance(v, Vector) and isinstance(v.dtype, types.Integer)
    if not (isinstance(v, Vector) and (v.dtype == a.dtype or (widen and a.dtype.bitwidth > v.dtype.bitwidth))):
        raise numba.TypingError(f"numba_simd.vstore_first: {v} does not fit an array of {a.dtype}")

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        value = args[2]
        if v.dtype != a.dtype:
            value = builder.sext(value, ir.VectorType(context.get_value_type(a.dtype), v.count))
        pointer = builder.bitcast(builder.gep(data, [args[1]]), value.type.as_pointer())
        count = context.cast(builder, args[3], signature.args[3], types.int64)
        mask = ir.VectorType(ir.IntType(1), v.count)
        fn = ir.FunctionType(ir.VoidType(), [value.type, pointer.type, ir.IntType(32), mask])
        store = cgutils.get_or_insert_function(builder.module, fn, f"llvm.masked.store.{_suffix(value.type)}")
        builder.call(store, [value, pointer, ir.IntType(32)(a.dtype.bitwidth // 8), _first(builder, v.count, count)])
        return context.get_dummy_value()

    return types.none(a, i, v, n), codegen
