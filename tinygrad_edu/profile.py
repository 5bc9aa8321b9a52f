"""Where does the time go? Count and time every op and every kernel call.

    with tge.profile():             # prints a table at the end of the block
        loss = model(x).sum()
        loss.backward()

or, for a whole program, ``TINYGRAD_EDU_DEBUG=1 python train.py`` (the table is printed at exit)
and ``TINYGRAD_EDU_DEBUG=2`` to see every kernel call as it happens (backend, shapes, ms).

Two doors are watched while a profile records, and nothing else:

- ops: ``Function.apply`` is swapped for a timed version (rows "Conv2d", "MatMul", ...), which also
  times the node's backward when the graph is walked (rows "Conv2dBackward", ...);
- kernels: ``kernels.for_device`` hands out a timed view of the backend (rows "numpy.matmul", ...).

Kernel time is part of the op that called the kernel. GFLOP/s is shown for matmul and conv: a
matmul (M, K) @ (K, N) does M·N·K multiply-adds, 2·M·N·K flops; a conv forward does
2·N·F·OH·OW·C·KH·KW, and each of its two backward kernels the same count. When no profile records,
the original ``apply`` is in place and ``for_device`` checks one variable: profiling off costs
nothing. GPU work is asynchronous, so a backend that defines ``synchronize()`` is synchronised before
each clock reading.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TextIO

from . import kernels
from .autograd import Function

ENV_VAR = "TINYGRAD_EDU_DEBUG"


@dataclass
class Stat:
    """One row of the table: how often something ran, for how long, doing how many flops."""

    calls: int = 0
    seconds: float = 0.0
    flops: int = 0

    @property
    def ms(self) -> float:
        """Total time in milliseconds."""
        return 1e3 * self.seconds

    @property
    def gflops(self) -> float | None:
        """Billions of floating-point operations per second (None when no flops were counted)."""
        return self.flops / self.seconds / 1e9 if self.flops and self.seconds > 0 else None


def kernel_flops(function: str, args: tuple[Any, ...], out: Any) -> int:
    """Floating-point operations (a multiply-add counts 2) of one kernel call; 0 where we do not count."""
    if function == "matmul":  # (..., M, K) @ (..., K, N): 2·(batch·M)·N·K
        a, b = args
        return 2 * math.prod(a.shape[:-1]) * b.shape[-1] * a.shape[-1]
    if function == "conv2d_forward":  # (x, w, ...) -> y (N, F, OH, OW)
        (N, F, OH, OW), (_, C, KH, KW) = out.shape, args[1].shape
    elif function == "conv2d_backward_input":  # (dy, w, x_shape, ...)
        (N, F, OH, OW), (_, C, KH, KW) = args[0].shape, args[1].shape
    elif function == "conv2d_backward_weight":  # (dy, x, w_shape, ...)
        (N, F, OH, OW), (_, C, KH, KW) = args[0].shape, args[2]
    else:
        return 0
    return 2 * N * F * OH * OW * C * KH * KW


# ---------------------------------------------------------------------------------------------
# The recorder
# ---------------------------------------------------------------------------------------------


class profile:  # noqa: N801 (used like a function: with tge.profile(): ...)
    """Record ops and kernel calls inside a ``with`` block, then print the table.

    ``level`` 1 prints the table at the end; 2 also prints each kernel call as it returns.
    The default is ``TINYGRAD_EDU_DEBUG`` (at least 1). ``file`` defaults to standard error.
    After the block, ``.ops`` and ``.kernels`` map each row's name to its ``Stat``.
    """

    def __init__(self, level: int | None = None, file: TextIO | None = None) -> None:
        self.level = max(1, _env_level()) if level is None else level
        if self.level not in (1, 2):
            raise ValueError(f"profile: level must be 1 (table) or 2 (table and every kernel call), got {level!r}")
        self.file = file
        self.ops: dict[str, Stat] = {}
        self.kernels: dict[str, Stat] = {}

    def __enter__(self) -> profile:
        _start(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self)
        self.print(self.table())

    def print(self, line: str) -> None:
        """Write a line to this profile's file (standard error unless given)."""
        print(line, file=self.file or sys.stderr, flush=True)

    def table(self) -> str:
        """The ops and kernels, slowest first: calls, total ms and (for matmul and conv) GFLOP/s."""
        width = max([len("kernel"), *map(len, self.ops), *map(len, self.kernels)]) + 2
        lines = ["tinygrad_edu profile (kernel time is included in the time of the op that called it)"]
        for title, rows in (("op", self.ops), ("kernel", self.kernels)):
            lines.append(f"{title:<{width}}{'calls':>8}{'total ms':>12}{'GFLOP/s':>10}")
            for name, s in sorted(rows.items(), key=lambda row: -row[1].seconds):
                rate = "" if s.gflops is None else f"{s.gflops:.2f}"
                lines.append(f"{name:<{width}}{s.calls:>8}{s.ms:>12.3f}{rate:>10}".rstrip())
            if not rows:
                lines.append("  (none)")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Switching the two doors on and off
# ---------------------------------------------------------------------------------------------

_recording: list[profile] = []  # the profiles now recording (nested blocks all see every call)
_op_flops: list[int] = []  # flops of the kernels called by each op now running, innermost last
_untimed_apply = Function.__dict__["apply"]  # the classmethod itself, put back when recording stops
_views: dict[str, _TimedBackend] = {}


def _start(p: profile) -> None:
    if not _recording:
        Function.apply = classmethod(_timed_apply)
        kernels._instrument = _timed_backend
    _recording.append(p)


def _stop(p: profile) -> None:
    _recording.remove(p)
    if not _recording:
        Function.apply = _untimed_apply
        kernels._instrument = None


def _synchronize(backend: ModuleType | None = None) -> None:
    """Wait for queued GPU work, so that the clock measures it (CPU backends have no synchronize)."""
    sync = getattr(backend or kernels.current(), "synchronize", None)
    if sync is not None:
        sync()


def _record(table: str, name: str, seconds: float, flops: int) -> None:
    for p in _recording:
        s = getattr(p, table).setdefault(name, Stat())
        s.calls, s.seconds, s.flops = s.calls + 1, s.seconds + seconds, s.flops + flops


def _time_op(name: str, run: Callable[[], Any]) -> Any:
    """Run one op's forward or backward on the clock; the flops of its kernels count for it."""
    _synchronize()
    _op_flops.append(0)
    start = time.perf_counter()
    try:
        result = run()
        _synchronize()
    finally:
        seconds, flops = time.perf_counter() - start, _op_flops.pop()
    _record("ops", name, seconds, flops)
    return result


def _timed_apply(cls: type[Function], *args: Any) -> Any:
    """Function.apply on the clock; the node it records also times its backward."""
    out = _time_op(cls.__name__, lambda: _untimed_apply.__func__(cls, *args))
    node = out._ctx
    if node is not None:  # the backward walk calls node.backward(node, dy): time that call too
        node.backward = lambda ctx, dy: _time_op(f"{cls.__name__}Backward", lambda: cls.backward(ctx, dy))
    return out


class _TimedBackend:
    """A backend module seen through the profiler: its table functions are timed, the rest passes through."""

    def __init__(self, backend: ModuleType) -> None:
        self.backend = backend
        for function in kernels.TABLE:
            if hasattr(backend, function):
                setattr(self, function, self._timed(function, getattr(backend, function)))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.backend, attribute)  # name, device, helpers

    def _timed(self, function: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        label = f"{self.backend.name}.{function}"

        def timed(*args: Any) -> Any:
            _synchronize(self.backend)
            start = time.perf_counter()
            out = kernel(*args)
            _synchronize(self.backend)
            seconds = time.perf_counter() - start
            flops = kernel_flops(function, args, out)
            if _op_flops:
                _op_flops[-1] += flops
            _record("kernels", label, seconds, flops)
            for p in _recording:
                if p.level >= 2:
                    p.print(_call_line(label, args, seconds, flops))
            return out

        return timed


def _timed_backend(backend: ModuleType) -> _TimedBackend:
    """The timed view of a backend (made once per backend)."""
    view = _views.get(backend.name)
    if view is None or view.backend is not backend:
        view = _views[backend.name] = _TimedBackend(backend)
    return view


def _describe(arg: Any) -> str:
    """An array as dtype and shape (float32(2, 3, 8, 8)); anything else as itself."""
    if hasattr(arg, "shape") and hasattr(arg, "dtype"):
        return f"{arg.dtype}{tuple(arg.shape)}"
    return str(arg)


def _call_line(label: str, args: tuple[Any, ...], seconds: float, flops: int) -> str:
    rate = f"  {flops / seconds / 1e9:.2f} GFLOP/s" if flops and seconds > 0 else ""
    return f"[kernel] {label}({', '.join(map(_describe, args))})  {1e3 * seconds:.3f} ms{rate}"


# ---------------------------------------------------------------------------------------------
# TINYGRAD_EDU_DEBUG: profile the whole program, print at exit
# ---------------------------------------------------------------------------------------------


def _env_level() -> int:
    value = os.environ.get(ENV_VAR, "").strip() or "0"
    if value not in ("0", "1", "2"):
        raise ValueError(f"{ENV_VAR}={value!r}: use 0 (off), 1 (a table at exit) or 2 (also every kernel call)")
    return int(value)


def _profile_whole_run() -> None:
    if _env_level() >= 1:
        whole_run = profile(_env_level())
        whole_run.__enter__()
        atexit.register(whole_run.__exit__, None, None, None)


_profile_whole_run()
