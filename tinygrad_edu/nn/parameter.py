"""Parameter: a Tensor that a Module learns.

Assigning a Parameter to a Module attribute (``self.weight = Parameter(...)``) registers it, so
``model.parameters()`` finds it and the optimizer updates it. It is an ordinary Tensor otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import as_array
from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable Tensor: ``requires_grad=True`` by default, registered when set on a Module.

    ``Parameter(data)`` wraps a Tensor (sharing its storage, as in PyTorch) or an array or list.
    Floating-point data is required when ``requires_grad`` is True.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True):
        array = np.zeros(0, dtype=np.float32) if data is None else as_array(data)
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
