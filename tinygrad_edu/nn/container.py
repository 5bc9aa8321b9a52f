"""Containers: Sequential (a pipeline of modules) and ModuleList (a list that registers its modules).

A plain Python list of layers would hide them from ``parameters()`` and ``state_dict()``;
these register each entry under its index ("0", "1", ...), which is where the state-dict names
``0.weight``, ``layers.1.bias`` come from.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from .module import Module


def _index(i: int, n: int, kind: str) -> int:
    if not -n <= i < n:
        raise IndexError(f"{kind}: index {i} is out of range for {n} modules")
    return i % n


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(64, 128), ReLU(), Linear(128, 10))``.

    Also ``Sequential(OrderedDict(fc1=Linear(...), act=ReLU()))`` to name the entries.
    Indexable (``model[0]``, ``model[1:]`` gives a Sequential), iterable, ``len``, ``append``.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        """x → module 0 → module 1 → ... → the output."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, i: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[_index(i, len(items), "Sequential")][1]

    def __setitem__(self, i: int, module: Module) -> None:
        key = list(self._modules)[_index(i, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, i: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[i] if isinstance(i, slice) else [keys[_index(i, len(keys), "Sequential")]]:
            del self._modules[key]
        if all(k.isdigit() for k in keys):  # renumber 0, 1, 2, ... as PyTorch does
            modules = list(self._modules.values())
            self._modules.clear()
            for n, m in enumerate(modules):
                self.add_module(str(n), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add several modules at the end; returns self."""
        for m in modules:
            self.append(m)
        return self


class ModuleList(Module):
    """A list of modules, each registered (so their parameters are found): ``ModuleList([Linear(4, 4)] * 3)``.

    Indexable, iterable, ``len``, ``append``, ``extend``, ``insert``. It has no ``forward``: write
    the loop over it in your own module's forward.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, i: int | slice) -> Any:
        values = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(values[i])
        return values[_index(i, len(values), "ModuleList")]

    def __setitem__(self, i: int, module: Module) -> None:
        self.add_module(str(_index(i, len(self), "ModuleList")), module)

    def __delitem__(self, i: int | slice) -> None:
        values = list(self._modules.values())
        del values[i if isinstance(i, slice) else _index(i, len(values), "ModuleList")]
        self._modules.clear()
        self.extend(values)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add several modules at the end; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position ``index``."""
        values = list(self._modules.values())
        values.insert(index, module)
        self._modules.clear()
        self.extend(values)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ModuleList is a container, not a layer: loop over it in your own forward."""
        raise TypeError("ModuleList has no forward(): iterate over it in your module's forward, e.g. for layer in ...")


class ModuleDict(Module):
    """A dict of modules, each registered under its key: ``ModuleDict({"conv": Conv2d(1, 8, 3), "act": ReLU()})``.

    The keys become the state-dict names (``heads.cls.weight``). Insertion order is kept;
    ``[]``, ``in``, ``len``, iteration over keys, ``keys() items() values() update() pop() clear()``.
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(key, module) pairs."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules."""
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """Add (or replace) entries from a dict, a ModuleDict or an iterable of (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove the entry and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every entry."""
        self._modules.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ModuleDict is a container, not a layer: pick its entries in your own forward."""
        raise TypeError("ModuleDict has no forward(): pick entries in your module's forward, e.g. self.heads[name](x)")
