"""Module: the base class of every layer and model, as in PyTorch.

A Module is a tree. Setting an attribute registers it by its type:

    self.fc1 = nn.Linear(4, 8)             # a submodule      -> self._modules["fc1"]
    self.weight = nn.Parameter(w)          # a parameter      -> self._parameters["weight"]
    self.register_buffer("running_mean", t)  # a buffer (state that is not learned, e.g. BatchNorm's statistics)

Everything else (``parameters()``, ``state_dict()``, ``to(device)``, ``train()``, the printed tree)
is a walk over that tree. Names are joined with dots along the way: ``fc1.weight``,
``0.bias``, ``bn.running_mean``, which are PyTorch's names, so PyTorch state dicts load here.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

from ..autograd import no_grad
from ..device import to_device
from ..dtypes import as_array
from ..tensor import Tensor
from .hooks import add_hook, call_with_hooks
from .module_device import DeviceMixin
from .parameter import Parameter

# What load_state_dict returns (PyTorch's ``_IncompatibleKeys``): empty lists when every key matched.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (how a child's repr nests inside its parent's)."""
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module(DeviceMixin):
    """Base class for layers and models: subclass it, build layers in ``__init__``, compute in ``forward``.

    ::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(64, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

    Call the model, not ``forward``: ``logits = model(x)``.
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        for hooks in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks"):
            object.__setattr__(self, hooks, OrderedDict())

    # ---- computing ---------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module; every subclass defines its own."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: define '
            "forward(self, x) in your class."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``model(x)`` runs ``forward(x)`` (and the module's hooks around it, if it has any: hooks.py)."""
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False) -> Any:
        """``hook(module, args)`` runs before forward; what it returns (if not None) replaces args. Returns a handle."""
        return add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> Any:
        """``hook(module, args, output)`` runs after forward; a non-None result replaces output. Returns a handle.

        ``always_call=True``: it also runs (output None) when forward raises.
        """
        return add_hook(self._forward_hooks, hook, prepend, with_kwargs=with_kwargs, always_call=always_call)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """``hook(module, grad_input, grad_output)`` runs in backward; a tuple it returns replaces grad_input."""
        return add_hook(self._backward_hooks, hook, prepend)

    # ---- registration ------------------------------------------------------------------------

    def _stores(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign a parameter, buffer or submodule to {type(self).__name__} before "
                "Module.__init__() has run: call super().__init__() first in your __init__"
            )
        return d["_parameters"], d["_buffers"], d["_modules"]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter | Module):
            params, buffers, modules = self._stores()
            for store in (self.__dict__, params, buffers, modules):
                store.pop(name, None)
            (params if isinstance(value, Parameter) else modules)[name] = value
            return
        d = self.__dict__
        for store, kind, allowed in (
            ("_parameters", "parameter", "nn.Parameter or None"),
            ("_modules", "child module", "nn.Module or None"),
            ("_buffers", "buffer", "Tensor or None"),
        ):
            if name in d.get(store, ()):
                if value is not None and not (store == "_buffers" and isinstance(value, Tensor)):
                    raise TypeError(f"cannot assign {type(value).__name__} as {kind} '{name}' ({allowed} expected)")
                d[store][name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when ordinary lookup fails: look in the three registries
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a Parameter (or None: a declared but absent parameter, like ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be an nn.Parameter or None, got {type(param).__name__}")
        params, _, _ = self._stores()
        self.__dict__.pop(name, None)
        params[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in ``state_dict`` and moved by ``to()`` but not learned.

        ``persistent=False`` keeps it out of the state dict (moved by ``to()`` all the same).
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got {type(tensor).__name__}")
        _, buffers, _ = self._stores()
        self.__dict__.pop(name, None)
        buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be an nn.Module or None, got {type(module).__name__}")
        _, _, modules = self._stores()
        self.__dict__.pop(name, None)
        modules[name] = module

    register_module = add_module

    # ---- walking the tree --------------------------------------------------------------------

    def named_modules(self, memo: set[int] | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(name, module) for this module ("") and every descendant, each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """Self and every descendant module."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct submodules."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, t in module.__dict__[store].items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{module_name}.{name}" if module_name else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs: ``fc1.weight``, ``fc1.bias``, ... (a shared parameter once)."""
        yield from self._named_members("_parameters", prefix, recurse)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable parameter, for the optimizer: ``optim.Adam(model.parameters())``."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(name, buffer) pairs: ``bn.running_mean``, ``bn.num_batches_tracked``, ..."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (state that is not learned)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (``sum(p.numel() for p in model.parameters())``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self; returns self.

        ``model.apply(init_weights)`` is the usual way to re-initialise a model.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -----------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be True or False, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout is the identity, BatchNorm uses running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradients on or off for every parameter (``False`` freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: set ``.grad`` to None (default) or fill it with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    # ---- state dict --------------------------------------------------------------------------

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """PyTorch's order: each module's parameters, then its persistent buffers, then its children."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_items(f"{prefix}{name}.")

    def state_dict(self, keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by its dotted name, as detached Tensors sharing storage.

        ``{k: v.numpy() for k, v in model.state_dict().items()}`` gives plain arrays; copy them
        (``v.numpy().copy()``) to keep a snapshot that later training steps will not change.
        """
        return OrderedDict((k, t if keep_vars else t.detach()) for k, t in self._state_items())

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, by name. Values: Tensors, NumPy arrays or numbers.

        With ``strict`` (the default) the keys must match exactly. A key that is missing or
        unexpected, or a value of the wrong shape, stops the load before anything is copied, with
        an error that names every offending key (and, for shapes, both shapes). Values are cast to
        each parameter's dtype and device. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values: dict[str, Any] = {}
        errors: list[str] = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        for key, t in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else as_array(value)
            if array.dtype.kind not in "biuf":
                errors.append(f"value for {key}: expected an array of numbers, got {type(value).__name__}")
            elif getattr(t, "is_lazy", False):  # a lazy layer's parameter takes the loaded shape (lazy.py)
                values[key] = array
            elif tuple(array.shape) != t.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from "
                    f"checkpoint, the shape in current model is {t.shape}."
                )
            else:
                values[key] = array
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for key, array in values.items():
                t = own[key]
                if getattr(t, "is_lazy", False):
                    t.materialize(array.shape)
                t.array[...] = to_device(array, t.device).astype(t.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The settings shown inside the parentheses, e.g. ``in_features=64, out_features=128, bias=True``."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(m), 2)}" for name, m in self._modules.items()]
        if len(extra_lines) == 1 and not child_lines:  # Linear(in_features=..., ...) on one line
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        body = "\n  " + "\n  ".join(lines) + "\n" if lines else ""
        return f"{type(self).__name__}({body})"
