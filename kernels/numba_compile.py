"""What the Numba kernels are compiled for, and whether this run has to compile them first.

Numba compiles a kernel on its first call for a dtype and keeps the machine code in its on-disk
cache (``cache=True``; ``NUMBA_CACHE_DIR`` moves it). The code is for one CPU: LLVM's name for
the host (``llvmlite.binding.get_host_cpu_name()``, e.g. ``znver4``, ``skylake-avx512``,
``haswell``) and its feature list, or ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` when they are
set. Three things a learner comparing kernels wants to know, answered here:

- ``target()``: the CPU name and features Numba compiles for (the ones in its cache key);
- ``isa()``: the widest vector instructions that target has, found by asking LLVM to compile a
  16-float fused multiply-add and an 8-int multiply for it and reading the assembly: zmm
  registers mean AVX-512, ymm AVX/AVX2, xmm SSE. (Reading the feature list instead would miss
  ``NUMBA_CPU_NAME=haswell`` with an empty feature list, where LLVM takes the features from the name.)
- ``notice()``: one line, before a long run starts, when kernels it needs are not in the cache
  for this CPU yet: what compiles, for which CPU, roughly how long, and that it happens once.

``tinygrad-edu train --kernels numba`` prints ``notice()`` before its progress bar.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from functools import cache
from types import ModuleType
from typing import Any, TextIO

import numpy as np

# Seconds to compile each module's kernels for one dtype, measured from an empty cache on the
# project's 2-core AMD EPYC (znver5): matmul 2.6 s, conv 2.6 s, the two max-pools 0.7 s. A busy or
# slower CPU takes longer; the line says "about" and rounds up.
COMPILE_SECONDS = {"numba_matmul": 3.0, "numba_conv": 3.0, "numba_pool": 1.0}
OTHER_MODULE_SECONDS = 3.0

_PROBE_IR = r"""
define void @fma16(ptr %p) {
  %v = load <16 x float>, ptr %p
  %r = call <16 x float> @llvm.fma.v16f32(<16 x float> %v, <16 x float> %v, <16 x float> %v)
  store <16 x float> %r, ptr %p
  ret void
}
define void @fadd8(ptr %p) {
  %v = load <8 x float>, ptr %p
  %r = fadd <8 x float> %v, %v
  store <8 x float> %r, ptr %p
  ret void
}
define void @imul8(ptr %p, ptr %q) {
  %v = load <8 x i32>, ptr %p
  %w = load <8 x i32>, ptr %q
  %r = mul <8 x i32> %v, %w
  store <8 x i32> %r, ptr %p
  ret void
}
declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)
"""


def _codegen() -> Any:
    """Numba's CPU code generator (the object whose ``magic_tuple()`` keys the cache)."""
    from numba.core.registry import cpu_target

    return cpu_target.target_context.codegen()


def target() -> tuple[str, str]:
    """(LLVM CPU name, feature string) that Numba compiles for: the host's, or NUMBA_CPU_NAME/FEATURES."""
    _, cpu, features = _codegen().magic_tuple()
    return cpu, features


def _function_asm(asm: str, name: str) -> str:
    """The lines of one function in LLVM's assembly listing."""
    start = asm.find(f"{name}:")
    end = asm.find(".Lfunc_end", start)
    return asm[start:end] if start >= 0 else ""


@cache
def isa(cpu: str | None = None, features: str | None = None) -> str:
    """The vector ISA LLVM uses for ``cpu``/``features`` (default: Numba's target), e.g. "AVX-512 (zmm, FMA)".

    x86-64: "AVX-512", "AVX2", "AVX" or "SSE", with the register width and whether fused
    multiply-adds exist. Other architectures: "NEON" on arm64, else the architecture's name.
    """
    import llvmlite.binding as ll

    _codegen()  # Numba's start-up registers LLVM's native target and assembly printer
    if cpu is None or features is None:
        cpu, features = target()
    triple = ll.get_process_triple()
    arch = triple.split("-")[0]
    machine = ll.Target.from_triple(triple).create_target_machine(cpu=cpu, features=features, opt=2)
    module = ll.parse_assembly(_PROBE_IR)
    asm = machine.emit_assembly(module)
    fma16, fadd8, imul8 = (_function_asm(asm, f) for f in ("fma16", "fadd8", "imul8"))
    if arch in ("x86_64", "amd64", "i686", "i386"):
        fma = ", FMA" if "vfmadd" in fma16 else ", no FMA"
        if "zmm" in fma16:
            return f"AVX-512 (512-bit zmm{fma})"
        if "ymm" in imul8:
            return f"AVX2 (256-bit ymm{fma})"
        if "ymm" in fadd8:
            return f"AVX (256-bit ymm{fma})"
        return f"SSE (128-bit xmm{fma})"
    if arch in ("aarch64", "arm64"):
        return "NEON (128-bit)" + (" with SVE" if "+sve" in features.split(",") else "")
    return arch


def describe_target() -> str:
    """The target in words, e.g. "znver4 with AVX-512 (512-bit zmm, FMA)", naming NUMBA_CPU_NAME if it chose."""
    from numba.core import config

    cpu, features = target()
    chosen = []
    if config.CPU_NAME is not None:
        chosen.append("NUMBA_CPU_NAME")
    if config.CPU_FEATURES is not None:
        chosen.append("NUMBA_CPU_FEATURES")
    source = f" (set by {' and '.join(chosen)})" if chosen else ""
    return f"{cpu}{source} with {isa(cpu, features)}"


# ---------------------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------------------


def kernel_modules(table_names: Iterable[str] | None = None) -> list[ModuleType]:
    """The modules whose Numba functions serve ``table_names`` (default: the whole kernel table)."""
    from . import TABLE, get

    backend = get("numba")
    modules: dict[str, ModuleType] = {}
    for name in TABLE if table_names is None else table_names:
        fn = getattr(backend, name, None)
        module = sys.modules.get(getattr(fn, "__module__", ""))
        if module is not None:
            modules[module.__name__] = module
    return list(modules.values())


def _dispatchers(module: ModuleType) -> list[Any]:
    """The cached (``cache=True``) Numba functions a module defines (not those it imports)."""
    from numba.core.caching import FunctionCache
    from numba.core.dispatcher import Dispatcher

    found = {}
    for value in vars(module).values():
        if isinstance(value, Dispatcher) and isinstance(getattr(value, "_cache", None), FunctionCache):
            if value.py_func.__module__ == module.__name__:
                found[id(value)] = value
    return list(found.values())


def _cached_dtypes(dispatcher: Any) -> set[str] | None:
    """The dtypes this function is in the cache for, compiled by this Numba for this CPU and this source.

    None when nothing at all is cached for it here (a helper the run may never call).
    """
    cache, codegen = dispatcher._cache, _codegen()
    index = cache._cache_file._load_index()  # {} when missing, from another Numba version or stale source
    dtypes: set[str] = set()
    fresh = False
    for key in index:
        sig = key[0]
        if key[1:] != cache._index_key(sig, codegen)[1:]:  # another CPU, or the function's code changed
            continue
        fresh = True
        dtypes.update(str(t.dtype) for t in sig if hasattr(t, "dtype"))
    return dtypes if fresh else None


def uncached(table_names: Iterable[str] | None = None, dtype: Any = np.float32) -> list[str]:
    """The kernel modules (e.g. "numba_conv") that will compile for ``dtype`` on first use, on this CPU.

    A module is cached when at least one of its functions is, and every function that is cached
    for this CPU is cached for ``dtype`` too.
    """
    want = np.dtype(dtype).name
    missing = []
    for module in kernel_modules(table_names):
        if want not in getattr(module, "INPUT_DTYPES", (want,)):  # e.g. the int8 GEMM never runs on floats
            continue
        found = [_cached_dtypes(d) for d in _dispatchers(module)]
        cached = [dtypes for dtypes in found if dtypes is not None]
        if not cached or any(want not in dtypes for dtypes in cached):
            missing.append(module.__name__.rsplit(".", 1)[-1])
    return missing


def notice(table_names: Iterable[str] | None = None, dtype: Any = np.float32) -> str | None:
    """One line saying the Numba kernels compile first (what, for which CPU, how long), or None if cached."""
    try:
        missing = uncached(table_names, dtype)
        where = describe_target()
    except Exception as e:  # numba's cache internals moved: still say that a compile may come
        return f"numba: the kernels may compile on first use (cache not readable: {type(e).__name__}); cached after"
    if not missing:
        return None
    seconds = sum(COMPILE_SECONDS.get(m, OTHER_MODULE_SECONDS) for m in missing)
    about = 5 * math.ceil(seconds / 5)
    from numba.core import config

    names = [m.removeprefix("numba_") for m in missing]
    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"numba: compiling the {what} kernels ({np.dtype(dtype).name}) "
        f"for {where}, about {about} s; this happens once: later runs load them from Numba's cache "
        f"({config.CACHE_DIR or '__pycache__ next to the kernel files'})"
    )


def announce(table_names: Iterable[str] | None = None, file: TextIO | None = None) -> bool:
    """Print ``notice()`` (flushed) if the kernels must compile; True if it printed."""
    line = notice(table_names)
    if line is not None:
        print(line, file=file or sys.stdout, flush=True)
    return line is not None
