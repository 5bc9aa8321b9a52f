"""Where arrays live: "cpu" arrays are NumPy arrays, "cuda" arrays are CuPy arrays.

The rest of the library asks ``array_module(device)`` for ``xp`` (numpy or cupy) and writes the
math once, as ``xp.exp(x)``, for both devices.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("cpu", "cuda")


_cupy: ModuleType | None = None  # CuPy, once it has been found to work (every op on "cuda" asks for it)


def _import_cupy() -> ModuleType:
    """Import CuPy, or explain how to get a working one."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError(
            "device 'cuda' needs CuPy, which is not installed here: "
            "pip install -e '.[cuda]' on a machine with an NVIDIA GPU, or stay on device 'cpu'."
        ) from e
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CuPy raises its own CUDARuntimeError when no driver is present
        raise RuntimeError(f"device 'cuda': CuPy is installed but found no usable GPU ({e}).") from e
    if n == 0:
        raise RuntimeError("device 'cuda': CuPy is installed but this machine has no GPU.")
    _cupy = cupy
    return cupy


def check_device(device: str) -> str:
    """Return the device name, or raise a ValueError that lists the valid ones."""
    device = str(device)
    if device.startswith("cuda:"):
        device = "cuda"  # one GPU is all we use; accept PyTorch's "cuda:0"
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'.")
    return device


def array_module(device: str) -> ModuleType:
    """numpy for "cpu", cupy for "cuda" (the ``xp`` of the formulas)."""
    return np if check_device(device) == "cpu" else _import_cupy()


def device_of(array: Any) -> str:
    """The device an array lives on."""
    return "cpu" if isinstance(array, np.ndarray | np.generic) else "cuda"


def xp_of(array: Any) -> ModuleType:
    """The array module of an array: numpy for NumPy arrays, cupy for CuPy arrays."""
    if isinstance(array, np.ndarray | np.generic):
        return np
    return _import_cupy()


def to_device(array: Any, device: str) -> Any:
    """Copy an array to a device (no copy when it is already there)."""
    device = check_device(device)
    if device_of(array) == device:
        return array
    if device == "cpu":
        return array.get()
    return _import_cupy().asarray(array)


def cuda_is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True
