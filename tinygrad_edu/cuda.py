"""``tge.cuda``: is there a GPU, how many, and wait for it — torch.cuda's small helpers.

    if tge.cuda.is_available():
        x = x.to("cuda")
    ...
    tge.cuda.synchronize()   # GPU work is queued and runs asynchronously: wait before reading a clock

Device "cuda" means CuPy arrays on the current GPU (tinygrad_edu/device.py); these helpers ask
CuPy, and explain what is missing when there is no usable GPU.
"""

from __future__ import annotations

from typing import Any

from .device import _import_cupy, cuda_is_available

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "is_available",
    "manual_seed",
    "manual_seed_all",
    "memory_allocated",
    "set_device",
    "synchronize",
]


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


def manual_seed(seed: int) -> None:
    """Seed the GPU's random numbers; silently ignored without a GPU, as in PyTorch.

    Here every draw is made on the host by one generator and then copied to the GPU, so with a
    GPU this seeds that generator (the same as ``tge.manual_seed(seed)``).
    """
    if is_available():
        from .random import manual_seed as seed_default

        seed_default(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's random numbers (there is one generator here: see ``manual_seed``)."""
    manual_seed(seed)


def current_device() -> int:
    """The index of the GPU in use (always 0: tinygrad_edu uses one GPU)."""
    _import_cupy()
    return 0


def set_device(device: Any) -> None:
    """Choose the GPU to use; only GPU 0 is used here, so any other index is an error."""
    index = getattr(device, "index", device)
    if index not in (None, 0, "cuda", "cuda:0"):
        raise RuntimeError(f"set_device({device!r}): tinygrad_edu uses one GPU, index 0")


def empty_cache() -> None:
    """Give the GPU memory CuPy keeps for reuse back to the driver (nothing to do without a GPU)."""
    if is_available():
        _import_cupy().get_default_memory_pool().free_all_blocks()


def memory_allocated(device: Any = None) -> int:
    """Bytes of GPU memory held by tensors now (0 without a GPU)."""
    if not is_available():
        return 0
    return int(_import_cupy().get_default_memory_pool().used_bytes())
