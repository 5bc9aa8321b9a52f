"""Compile the hot Numba kernels for the CPU this process targets and describe their assembly, as JSON.

    NUMBA_CPU_NAME=skylake-avx512 NUMBA_CPU_FEATURES= NUMBA_CACHE_DIR=$(mktemp -d) python tests/kernels/asm_probe.py

Run by tests/kernels/test_numba_asm.py in a subprocess per CPU name (Numba reads the target once,
at start-up). Nothing is run: each kernel is compiled for the signature it gets in real use
(``Dispatcher.compile``), since compiling for a CPU does not need that CPU, only running does.

For every kernel it prints the function's hot loop (the innermost loop with the most vector
instructions of the kernel's kind: FMAs for matmul and conv, compares/selects for max pooling,
adds for average pooling) and counts, in it, those instructions per register width and the
memory operands on the stack; and it counts gather/scatter instructions in the whole compiled
library (the kernel and every function it calls).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import typeof
from tinygrad_edu.kernels import (
    numba_canvas,
    numba_compile,
    numba_conv,
    numba_conv_grad,
    numba_matmul,
    numba_pool,
    numba_pool_2x2,
    numba_simd,
)

KINDS = {  # the instructions that do a kernel's work, packed (…ps/…pd or integer selects)
    "fma": r"vfn?m(?:add|sub)\w*p[sd]",
    "max": r"vcmp\w*p[sd]|vmaxp[sd]|vblendv?m?p[sd]|vpblendm[dq]|vblendvp[sd]|vpblendvb",
    "add": r"vaddp[sd]",
    "route": r"vpcmpeq[dq]|vpcmp\w*q|vperm\w*p[sd]|vunpck[lh]p[sd]",  # index compares and zips (pool backward)
}
JUMP = re.compile(r"^\s+j\w+\s+(\.LBB\d+_\d+)")
LABEL = re.compile(r"^(\.LBB\d+_\d+):")
GATHER = re.compile(r"\b(?:v?p?gather\w*|v?p?scatter\w*)\b")


def _function(asm: str, name: str) -> list[str]:
    """The lines of the kernel's own function (not Numba's ``cpython`` wrapper, not its callees)."""
    lines, inside, body = asm.splitlines(), False, []
    for line in lines:
        if re.match(r"^_ZN\S*:", line):
            inside = name in line and not line.startswith("_ZN7cpython")
            continue
        if inside:
            if line.startswith(".Lfunc_end"):
                break
            body.append(line)
    return body


def _loops(body: list[str]) -> list[tuple[int, int]]:
    """(first, last) line of every innermost loop: a jump back to a label above it, around no other such jump."""
    labels = {m.group(1): i for i, line in enumerate(body) if (m := LABEL.match(line))}
    loops = []
    for i, line in enumerate(body):
        m = JUMP.match(line)
        if m and m.group(1) in labels and labels[m.group(1)] < i:
            loops.append((labels[m.group(1)], i))
    return [(a, b) for a, b in loops if not any((a, b) != (c, d) and a <= c and d <= b for c, d in loops)]


def _stack_operands(lines: list[str], frame_pointer: bool) -> list[str]:
    """Instructions with a memory operand on the stack: based on %rsp (or %rbp when it is the frame pointer)."""
    base = r"%rsp|%rbp" if frame_pointer else r"%rsp"
    return [line.strip() for line in lines if re.search(rf"\((?:{base})[,)]", line)]


def describe(name: str, dispatcher: Any, args: tuple, kind: str) -> dict[str, Any]:
    """Compile ``dispatcher`` for ``args``' types and describe the hot loop of its function."""
    signature = tuple(typeof(a) for a in args)
    with numba_matmul._slp_vectorizer():
        dispatcher.compile(signature)
    asm = dispatcher.inspect_asm(signature)
    body = _function(asm, name)
    pattern = re.compile(rf"^\s+(?:{KINDS[kind]})\s")
    best: tuple[int, int] | None = None
    best_count = -1
    for first, last in _loops(body):
        count = sum(1 for line in body[first : last + 1] if pattern.match(line))
        if count > best_count:
            best, best_count = (first, last), count
    loop = body[best[0] : best[1] + 1] if best else []
    widths = {reg: 0 for reg in ("xmm", "ymm", "zmm")}
    for line in loop:
        if pattern.match(line):
            operands = re.findall(r"%([xyz]mm)\d+", line)
            if operands:
                widths[max(operands, key=lambda r: "xyz".index(r[0]))] += 1
    frame_pointer = any(re.search(r"movq\s+%rsp, %rbp", line) for line in body[:40])
    return {
        "found": bool(body),
        "kind": kind,
        "loop_widths": widths,
        "loop_stack": _stack_operands(loop, frame_pointer),
        "loop_vector_spills": [  # vector registers stored to the stack (a reloaded constant is only read)
            line for line in _stack_operands(loop, frame_pointer) if re.search(r"%[xyz]mm\d+, -?\w*\(%r[sb]p", line)
        ],
        "gathers": sorted({m.group(0) for m in GATHER.finditer(asm)}),
        "loop": "\n".join(loop) if len(loop) < 400 else "\n".join(loop[:400]) + "\n…",
    }


def kernels() -> dict[str, tuple[Any, tuple, str]]:
    """name: (dispatcher, arguments as in real use, kind of the hot loop), float32."""
    f32 = np.float32
    vec = np.zeros(4096, f32)
    nr = numba_matmul.tile_cols(4)
    found: dict[str, tuple[Any, tuple, str]] = {}
    mm = numba_matmul
    found["_micro_kernel"] = (mm._micro_kernel, (512, vec, vec, vec, 64, 6, nr, False), "fma")
    found["_pack_a"] = (mm._pack_a, (vec, 64, False, 0, 60, 0, 64, vec), "fma")
    found["_pack_b"] = (mm._pack_b, (vec, 64, True, 0, 64, 0, 60, nr, vec), "fma")
    found["_store_tile"] = (mm._store_tile, (vec, vec, 64, 6, nr, True), "fma")

    x = np.zeros((4, 6, 14, 14), f32)
    place, wq, koff = numba_canvas._canvas(x.shape[1:], (5, 5), (1, 1), (10, 10))
    found["_shifted_kernel"] = (numba_conv._shifted_kernel, (150, vec, vec, koff, vec, 64, 6, nr), "fma")
    found["_shifted_column_kernel"] = (numba_conv._shifted_column_kernel, (150, vec, vec, koff, vec, 64, 6), "fma")
    found["_shifted_row_kernel"] = (numba_conv._shifted_row_kernel, (150, vec, vec, koff, vec), "fma")
    runs = np.zeros(numba_conv.RUNS, np.int64)  # the runs' starts on the canvas and places in y_t
    found["_lanes_kernel"] = (numba_conv._lanes_kernel, (150, vec, vec, koff, runs, vec, runs), "fma")
    lanes_dw = (10, 10, 14, vec, vec, runs, vec, runs)
    found["_lanes_weight_kernel"] = (numba_conv_grad._lanes_weight_kernel, lanes_dw, "fma")
    found["_dot_tile"] = (numba_conv_grad._dot_tile, (vec, 0, 96, vec, 0, 1, 2, 3, 96, vec, 0, 64), "fma")
    found["_place_on_canvas"] = (numba_canvas._place_on_canvas, (x[0], place, vec), "fma")

    xp = np.zeros((4, 6, 28, 28), f32)
    geometry, taps, columns, size, first = numba_pool._geometry(xp.shape, (2, 2), (2, 2), (0, 0), 4)
    yp, indices = np.zeros((4, 6, 14, 14), f32), np.zeros((4, 6, 14, 14), np.int64)
    canvases = np.zeros((1, size), f32)
    share = (np.array([0, 24]), np.zeros(1, np.int64), 0)  # chunks, counter, slot: one chunk of 24 planes
    pool = (xp, (2, 2), (0, 0), geometry, taps, columns, first, f32(-np.inf), canvases, yp, indices, *share)
    found["_max_pool"] = (numba_pool._max_pool, pool, "max")
    found["_avg_pool"] = (numba_pool._avg_pool, (xp, (2, 2), geometry, taps, columns, canvases, yp, *share), "add")
    backward = (yp, indices, xp, np.zeros(24, np.int64), *share)
    found["_max_pool_backward"] = (numba_pool._max_pool_backward, backward, "add")
    flat = (yp.reshape(-1), indices.reshape(-1), xp.reshape(-1))  # the 2×2 kernels' flat arrays, then H, W
    found["_max_pool_2x2"] = (
        numba_pool_2x2._max_pool_2x2,
        (flat[2], *flat[:2], 28, 28, np.zeros(16, np.int32), *share),
        "max",
    )
    backward_2x2 = (*flat, np.zeros(24, np.int64), 28, 28, *share)
    found["_max_pool_backward_2x2"] = (numba_pool_2x2._max_pool_backward_2x2, backward_2x2, "route")
    found["_avg_pool_backward"] = (numba_pool._avg_pool_backward, (yp, (2, 2), (2, 2), (0, 0), xp, *share), "add")
    return found


def main(select: Callable[[str], bool] = lambda name: True) -> dict[str, Any]:
    """The target and every kernel's description."""
    cpu, _ = numba_compile.target()
    report: dict[str, Any] = {"cpu": cpu, "isa": numba_compile.isa(), "vector_bytes": numba_simd.VECTOR_BYTES}
    report["mr_nv"] = [numba_matmul.MR, numba_matmul.NV]
    report["kernels"] = {
        name: describe(name, *spec) for name, spec in kernels().items() if select(name)
    }  # fmt: skip
    return report


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
