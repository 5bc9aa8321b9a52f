"""``tge.cuda``: is there a GPU, how many, and wait for it — torch.cuda's small helpers.

    if tge.cuda.is_available():
        x = x.to("cuda")
    ...
    tge.cuda.synchronize()   # GPU work is queued and runs asynchronously: wait before reading a clock

Device "cuda" means CuPy arrays on the current GPU (tinygrad_edu/device.py); these helpers ask
CuPy, and explain what is missing when there is no usable GPU.
"""

from __future__ import annotations

from .device import _import_cupy, cuda_is_available

__all__ = ["device_count", "get_device_name", "is_available", "synchronize"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU (never raises)."""
    return cuda_is_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 when there is no usable GPU or no CuPy)."""
    if not is_available():
        return 0
    return int(_import_cupy().cuda.runtime.getDeviceCount())


def synchronize() -> None:
    """Block until the GPU has finished all queued work; raises a RuntimeError saying why without a GPU."""
    _import_cupy().cuda.Device().synchronize()


def get_device_name(device: int = 0) -> str:
    """The GPU's name, e.g. "NVIDIA H100 80GB HBM3"."""
    name = _import_cupy().cuda.runtime.getDeviceProperties(device)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
