"""Keep the memory a training step frees for the next step, instead of handing it back to the OS.

A training step allocates the same activations and gradients every time: LeNet at batch 100
allocates about 10 MB of fresh arrays per step (conv outputs of 1.9 MB, their ReLUs, the pools,
the gradients of each) and frees them by the end of the step. What "fresh" costs depends on the
C allocator under NumPy. glibc's malloc serves a request over its *mmap threshold* (128 KiB at
first) with a new mapping from the kernel, and gives freed memory at the top of its heap back to
the kernel once more than the *trim threshold* is free. Memory that comes back from the kernel is
zero pages: the first write to each 4 KiB page traps into the kernel (a "minor page fault").

Measured here (2-core AMD EPYC, znver5, under a VM): the seed LeNet step on the Numba kernels took
about 2,400 minor faults per step, every step, and ran at 8.4 ms against 4.6 ms with the settings
below, which bring the faults to 0 (``/usr/bin/time`` or ``resource.getrusage().ru_minflt`` count
them). glibc raises its mmap threshold by itself after a large free, but its trim threshold rises
only to twice the last freed block, and a step frees far more than that at once, so the heap is
trimmed and refilled every step.

So at import, on glibc, tinygrad_edu asks malloc (``mallopt``) to

- serve requests up to ``MMAP_THRESHOLD`` (32 MiB, glibc's ceiling) from its heap, and
- give memory back only when more than ``TRIM_THRESHOLD`` (64 MiB) lies free at the heap's top.

A process then keeps up to 64 MiB it no longer uses, as PyTorch's CUDA caching allocator keeps GPU
memory; ``free -m`` shows it as used. The setting is the process's, so every library in it (NumPy,
PyTorch) allocates the same way. Set ``TINYGRAD_EDU_KEEP_MEMORY=0`` before the import to leave
malloc as it is; on other C libraries (macOS, Windows, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 32 << 20  # bytes: requests up to this come from the heap (glibc accepts at most 32 MiB)
TRIM_THRESHOLD = 64 << 20  # bytes: free memory at the heap's top kept before it goes back to the OS

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's <malloc.h>

kept: bool = False  # whether keep_freed_memory() changed malloc in this process


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (see the module docstring); True if it did.

    Does nothing, and returns False, off glibc or when ``TINYGRAD_EDU_KEEP_MEMORY=0``.
    """
    global kept
    if os.environ.get("TINYGRAD_EDU_KEEP_MEMORY", "1") == "0" or not _glibc():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return kept


def _glibc() -> bool:
    """Whether this process runs on GNU libc (``os.confstr`` names it, without reading any file)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def describe() -> str:
    """One line for a benchmark's header: what this process's malloc keeps."""
    if kept:
        return (
            f"malloc: glibc, heap serves up to {MMAP_THRESHOLD >> 20} MiB, keeps up to {TRIM_THRESHOLD >> 20} MiB "
            "freed (tinygrad_edu.memory; TINYGRAD_EDU_KEEP_MEMORY=0 turns it off)"
        )
    return "malloc: left as the C library sets it (tinygrad_edu.memory did not change it)"


keep_freed_memory()  # on import: `import tinygrad_edu` imports this module
