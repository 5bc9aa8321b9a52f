"""Where arrays live: "cpu" arrays are NumPy arrays, "cuda" arrays are CuPy arrays.

The rest of the library asks ``array_module(device)`` for ``xp`` (numpy or cupy) and writes the
math once, as ``xp.exp(x)``, for both devices.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("cpu", "cuda")


class Device(str):
    """A device like ``torch.device``: ``tge.device("cpu")``, ``tge.device("cuda", 0)``, ``tge.device("cuda:0")``.

    It *is* the device's name as a string ("cpu" or "cuda"), so every ``device=`` argument and
    ``x.to(...)`` accept it, and ``x.device == "cpu"`` keeps working; ``.type`` and ``.index`` are
    PyTorch's attributes. ``Tensor.device`` returns one of these.
    """

    type: str
    index: int | None

    def __new__(cls, type: Any = "cpu", index: int | None = None) -> Device:  # noqa: A002 (PyTorch's name)
        """Parse "cpu", "cuda", "cuda:0" or (type, index); an unknown name is a RuntimeError, as in PyTorch."""
        if isinstance(type, Device):
            return type if index is None else Device(type.type, index)
        name = str(type)
        if ":" in name:
            name, _, number = name.partition(":")
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: {str(type)!r}; write e.g. 'cuda:0' or device('cuda', 0)")
            index = int(number)
        if name not in DEVICES:
            raise RuntimeError(f"unknown device {str(type)!r}: use 'cpu' or 'cuda' (e.g. tge.device('cuda', 0))")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device index must be a non-negative int, got {index!r}")
        self = super().__new__(cls, name)
        self.type, self.index = name, index
        return self

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self) -> Any:
        return Device, (self.type, self.index)

    def __enter__(self) -> Device:
        """``with tge.device("cuda"):`` is accepted (tensors still default to "cpu" here)."""
        return self

    def __exit__(self, *exc: object) -> None:
        return None


CPU, CUDA = Device("cpu"), Device("cuda", 0)  # what Tensor.device returns (one object each, made once)


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


def check_device(device: Any) -> str:
    """The device name ("cpu" or "cuda") of a name or a ``tge.device``; an error listing the valid ones if unknown."""
    if isinstance(device, Device):
        return device.type
    if isinstance(device, int) and not isinstance(device, bool):
        return "cuda"  # PyTorch's x.to(0) means GPU 0
    device = str(device)
    if device.startswith("cuda:"):
        device = "cuda"  # one GPU is all we use; accept PyTorch's "cuda:0"
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'.")
    return device


def array_module(device: str) -> ModuleType:
    """numpy for "cpu", cupy for "cuda" (the ``xp`` of the formulas)."""
    return np if check_device(device) == "cpu" else _import_cupy()


def device_of(array: Any) -> Device:
    """The device an array lives on: ``CPU`` or ``CUDA`` (``tge.device`` objects equal to "cpu" / "cuda")."""
    return CPU if isinstance(array, np.ndarray | np.generic) else CUDA


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
