"""ParameterList and ParameterDict: containers that register the Parameters put in them (``nn.ParameterList``).

A plain Python list of Parameters is invisible to ``parameters()`` and ``state_dict()``; these
register each entry under its index ("0", "1", ...) or its key. Tensors and arrays put in are
made Parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _as_parameter(value: Any) -> Any:
    if value is None or isinstance(value, Parameter | Module):
        return value
    if isinstance(value, Tensor):
        return Parameter(value, requires_grad=value.requires_grad or value.dtype.kind == "f")
    return Parameter(value)


class ParameterList(Module):
    """A list of Parameters, each registered: ``ParameterList([Parameter(tge.randn(4)) for _ in range(3)])``.

    Indexable, iterable, ``len``, ``append``, ``extend``; state-dict names "0", "1", ...
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, i: int | slice) -> Any:
        items = [self._parameters[str(k)] for k in range(self._size)]
        if isinstance(i, slice):
            return ParameterList(items[i])
        if not -self._size <= i < self._size:
            raise IndexError(f"ParameterList: index {i} is out of range for {self._size} parameters")
        return items[i]

    def __setitem__(self, i: int, value: Any) -> None:
        if not -self._size <= i < self._size:
            raise IndexError(f"ParameterList: index {i} is out of range for {self._size} parameters")
        self.register_parameter(str(i % self._size), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self._parameters[str(k)] for k in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add a parameter at the end; returns self."""
        self.register_parameter(str(self._size), _as_parameter(value))
        self._size += 1
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add several parameters at the end; returns self."""
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        """One line per entry: its shape and dtype."""
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {p.shape}]" for i, p in enumerate(self))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ParameterList is a container, not a layer."""
        raise TypeError("ParameterList has no forward(): use its entries in your module's forward")


class ParameterDict(Module):
    """A dict of Parameters, each registered under its key (the state-dict name).

    ``[]``, ``in``, ``len``, iteration over keys, ``keys() items() values() update() pop() get() clear()``.
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._parameters.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """(key, parameter) pairs."""
        return self._parameters.items()

    def values(self) -> Iterable[Any]:
        """The parameters."""
        return self._parameters.values()

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default``."""
        return self._parameters.get(key, default)

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a dict or an iterable of (key, value) pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value

    def pop(self, key: str) -> Any:
        """Remove the entry and return its parameter."""
        return self._parameters.pop(key)

    def clear(self) -> None:
        """Remove every entry."""
        self._parameters.clear()

    def extra_repr(self) -> str:
        """One line per entry: its shape and dtype."""
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {p.shape}]" for k, p in self.items())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ParameterDict is a container, not a layer."""
        raise TypeError("ParameterDict has no forward(): use its entries in your module's forward")
