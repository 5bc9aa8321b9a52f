"""``tge.accelerator``: PyTorch 2.x's device-neutral questions, as its example programs ask them.

    device = tge.accelerator.current_accelerator() if tge.accelerator.is_available() else tge.device("cpu")

The one accelerator tinygrad_edu knows is an NVIDIA GPU through CuPy ("cuda").
"""

from __future__ import annotations

from typing import Any

from . import cuda
from .device import Device

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    """True when a GPU is usable (CuPy installed and a GPU seen)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """``device(type='cuda', index=0)`` when a GPU is usable, else None (as PyTorch on a CPU-only machine)."""
    return Device("cuda", 0) if cuda.is_available() else None


def device_count() -> int:
    """How many accelerators there are (0 or the number of GPUs)."""
    return cuda.device_count()


def current_device_index() -> int:
    """The index of the accelerator in use (0), or -1 when there is none."""
    return 0 if cuda.is_available() else -1


def synchronize(device: Any = None) -> None:
    """Wait for queued GPU work to finish (nothing to wait for without a GPU)."""
    if cuda.is_available():
        cuda.synchronize()
