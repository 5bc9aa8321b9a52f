"""The swappable compute kernels: one small table of functions, one file per backend.

Every backend module (numpy_ref.py, numba_cpu.py, cupy_cuda.py) defines ``name``, ``device`` and
these plain functions on arrays (never Tensors), so each file reads on its own:

    matmul(a, b) -> c
        (M, K) @ (K, N) -> (M, N), or per matrix (B, M, K) @ (B, K, N) -> (B, M, N).
        a and b share one float dtype (float32 or float64); they may be non-contiguous views.
    conv2d_forward(x, w, stride, padding, b=None) -> y
        x (N, C, H, W), w (F, C, KH, KW), stride and padding (int, int) pairs, b (F,) or None.
        y (N, F, OH, OW), OH = (H + 2·ph − KH) // sh + 1: cross-correlation, as in PyTorch, plus b[f].
    conv2d_backward_input(dy, w, x_shape, stride, padding) -> dx       dL/dx, shaped x_shape
    conv2d_backward_weight(dy, x, w_shape, stride, padding) -> dw      dL/dw, shaped w_shape
    conv2d_backward_bias(dy) -> db                                     dL/db = Σ over n, oh, ow of dy
    max_pool2d_forward(x, kernel, stride, padding) -> (y, indices)
        Padding counts as −inf. indices[n, c, i, j] = h·W + w, the position in x's (H, W) plane
        that won (PyTorch's return_indices convention), int64.
    max_pool2d_backward(dy, indices, x_shape) -> dx
        dx[n, c].flat[indices[n, c, i, j]] += dy[n, c, i, j]
    avg_pool2d_forward(x, kernel, stride, padding) -> y
        Mean over each window, padding counted as zeros in the window of KH·KW (PyTorch's default).
    avg_pool2d_backward(dy, x_shape, kernel, stride, padding) -> dx
    matmul_int8(a, b) -> c
        (M, K) int8 or uint8 @ (K, N) int8 -> (M, N) int32, every sum exact (quantized layers).
    relu(x) -> y                     y = max(x, 0), elementwise, any shape (NaN stays NaN)
    relu_backward(dy, y) -> dx       dx = dy · [y > 0]; y is relu's output

The conv and pool functions receive C-contiguous arrays (ops/conv.py makes them so) and return
arrays of their inputs' dtype that share no memory with the inputs (the op may write into them).

Choosing a backend: ``use("numba")`` (a plain call, or ``with use("numba"):`` to restore the
previous one on exit), the environment variable ``TINYGRAD_EDU_KERNELS``, or ``--kernels`` on the
command line. A backend that cannot run here raises ``KernelUnavailable`` saying why: there is
never a silent fallback to another backend.

The choice is per thread, as PyTorch's modes are: ``use`` changes the calling thread's backend only,
and every new thread starts with the default (``TINYGRAD_EDU_KERNELS``, else "numpy").
"""

from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType
from typing import Any

NAMES = ("numpy", "numba", "cupy")
_MODULES = {"numpy": "numpy_ref", "numba": "numba_cpu", "cupy": "cupy_cuda"}
DEVICE = {"numpy": "cpu", "numba": "cpu", "cupy": "cuda"}
TABLE = (
    "matmul",
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv2d_backward_bias",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "matmul_int8",
    "relu",
    "relu_backward",
)
ENV_VAR = "TINYGRAD_EDU_KERNELS"


class KernelUnavailable(RuntimeError):
    """A backend was asked for that cannot run on this machine; the message says why."""


_loaded: dict[str, ModuleType] = {}
_load_lock = threading.RLock()


class _ThreadBackend(threading.local):
    """The backend of each thread (None until the thread first asks: then the default)."""

    module: ModuleType | None = None


_current = _ThreadBackend()
_instrument: Any = None  # while tinygrad_edu.profile records: a function giving a timed view of a backend


def get(name: str) -> ModuleType:
    """The backend module called ``name``; raises KernelUnavailable if it cannot run here."""
    if name not in _MODULES:
        raise ValueError(f"unknown kernel backend {name!r}: choose one of {', '.join(NAMES)}")
    with _load_lock:  # two threads asking at once import and check a backend once
        return _load(name)


def _load(name: str) -> ModuleType:
    if name not in _loaded:
        try:
            module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
        except ImportError as e:
            raise KernelUnavailable(
                f"kernel backend {name!r} cannot be imported here ({e}). " + _install_hint(name, e)
            ) from e
        check = getattr(module, "check_available", None)
        if check is not None:
            check()  # raises KernelUnavailable with the reason (e.g. no GPU)
        _loaded[name] = module
    return _loaded[name]


def _install_hint(name: str, error: ImportError) -> str:
    """What to install, when the missing module is a third-party package (not our own file)."""
    missing = (error.name or "").split(".")[0]
    if missing == "numba":
        return "Install it with: pip install numba"
    if missing in ("cupy", "cupyx"):
        return "It needs CuPy and an NVIDIA GPU: pip install -e '.[cuda]'"
    return ""


def available() -> list[str]:
    """The names of the backends that can run on this machine."""
    names = []
    for name in NAMES:
        try:
            get(name)
        except (KernelUnavailable, RuntimeError):
            continue
        names.append(name)
    return names


def current() -> ModuleType:
    """The backend that ops call now in this thread (``TINYGRAD_EDU_KERNELS`` or "numpy" until ``use``)."""
    if _current.module is None:
        name = os.environ.get(ENV_VAR, "numpy") or "numpy"
        try:
            _current.module = get(name)
        except ValueError:
            raise ValueError(f"{ENV_VAR}={name!r} is not a kernel backend: choose one of {', '.join(NAMES)}") from None
    return _current.module


class use:  # noqa: N801 (reads as a verb: kernels.use("numba"))
    """Switch the kernel backend: ``use("numba")`` now, or ``with use("numba"):`` for a block.

    Used as a context manager it restores the previous backend on exit. Either way it changes the
    backend of the calling thread only.
    """

    def __init__(self, name: str) -> None:
        self.previous = current()
        self.backend = get(name)
        _current.module = self.backend

    def __enter__(self) -> ModuleType:
        return self.backend

    def __exit__(self, *exc: Any) -> None:
        _current.module = self.previous


def for_device(device: str, op: str) -> ModuleType:
    """The current backend, checked against the device of the arrays the op works on.

    Device and backend are two knobs: numpy and numba compute on "cpu" arrays, cupy on "cuda"
    arrays. A mismatch is an error that says which knob to turn.
    """
    backend = current()
    if DEVICE[backend.name] != device:
        fix = "tge.kernels.use('cupy')" if device == "cuda" else "tge.kernels.use('numpy') or use('numba')"
        raise RuntimeError(
            f"{op}: the kernel backend is {backend.name!r}, which computes on {DEVICE[backend.name]!r}, "
            f"but the tensors are on {str(device)!r}. Turn one knob: {fix}, or move the tensors with "
            f".to({DEVICE[backend.name]!r})."
        )
    return backend if _instrument is None else _instrument(backend)
