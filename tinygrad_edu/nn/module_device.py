"""Module's device and dtype methods (``to``, ``cuda``, ``cpu``, ``float``, ``double``, ``half``), a part of Module.

Every parameter and buffer keeps its identity when moved: only its array is replaced, so an
optimizer built before ``model.to("cuda")`` still updates the same Parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..device import array_module, check_device, to_device
from ..dtypes import as_dtype
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class DeviceMixin:
    """What Module does to move and cast its tensors (mixed into Module in module.py)."""

    def _tensors(self) -> Iterator[Tensor]:
        """Every parameter and buffer (persistent or not), each once."""
        seen: set[int] = set()
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for t in store.values():
                    if t is not None and id(t) not in seen:
                        seen.add(id(t))
                        yield t

    def to(self, *args: Any, device: str | None = None, dtype: Any = None) -> Module:
        """Move every parameter and buffer to a device and/or cast the floating ones; returns self.

        ``model.to("cuda")``, ``model.to(tge.float64)``. The Parameters stay the same objects
        (their arrays are replaced), so an optimizer built before the move still updates them.
        """
        for a in args:
            if isinstance(a, str):
                device = a
            else:
                dtype = a
        if device is not None:
            device = check_device(device)
            array_module(device)  # raises a clear error when that device is not usable here
        dtype = None if dtype is None else as_dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating-point dtypes, got {dtype}")

        def convert(array: Any) -> Any:
            if device is not None:
                array = to_device(array, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        for t in self._tensors():
            t.array = convert(t.array)
            if t.grad is not None:
                t.grad.array = convert(t.grad.array)
        return self

    def cuda(self, device: Any = None) -> Module:
        """Move to the GPU (``device``: a GPU's index or a device); returns self."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def cpu(self) -> Module:
        """Move to the host; returns self."""
        return self.to("cpu")

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32; returns self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 (for gradcheck); returns self."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16; returns self."""
        return self.to(np.float16)
