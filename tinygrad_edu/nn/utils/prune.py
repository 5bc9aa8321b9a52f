"""Pruning: zero out the least important weights, as ``torch.nn.utils.prune`` does (same API, names and masks).

    import tinygrad_edu.nn.utils.prune as prune
    prune.l1_unstructured(model.fc1, "weight", amount=0.5)   # the 50% smallest |w| become 0
    model.fc1.weight_orig, model.fc1.weight_mask              # the learned numbers, the 0/1 mask
    prune.remove(model.fc1, "weight")                         # make it permanent: weight = weight_orig · mask

How it works (PyTorch's design): pruning ``weight`` of a module
  1. moves the parameter to ``weight_orig`` (still learned: the optimizer keeps updating it),
  2. registers a buffer ``weight_mask`` of 0s and 1s (saved in the state dict),
  3. registers a forward pre-hook (the pruning method object itself) that, before every forward,
     sets the plain attribute ``weight = weight_orig · weight_mask``.
So forward sees the pruned weight and backward gives ``d weight_orig = d weight · mask``: pruned
entries get no gradient and stay pruned. Pruning the same tensor again combines the methods in a
``PruningContainer``: the new method only chooses among the entries still alive, and ``amount``
counts those (prune 50% twice: 75% are zero).

``amount`` is a fraction in [0, 1] (of the entries, or of the channels for ln_structured) or a
whole number of them; a fraction is rounded to the nearest count, as PyTorch's ``round``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...autograd import no_grad
from ...device import xp_of
from ...random import generator
from ...tensor import Tensor

__all__ = [
    "BasePruningMethod",
    "PruningContainer",
    "Identity",
    "RandomUnstructured",
    "L1Unstructured",
    "LnStructured",
    "CustomFromMask",
    "identity",
    "random_unstructured",
    "l1_unstructured",
    "ln_structured",
    "global_unstructured",
    "custom_from_mask",
    "remove",
    "is_pruned",
]


def _count(amount: int | float, size: int, what: str) -> int:
    """How many of ``size`` entries to prune: ``amount`` itself if a whole number, else round(amount · size)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"{what}: amount must be an int or a float, got {type(amount).__name__}")
    if isinstance(amount, int):
        if amount < 0:
            raise ValueError(f"{what}: amount={amount} should be a non-negative integer")
        if amount > size:
            raise ValueError(f"{what}: amount={amount} should be smaller than the number of parameters ({size})")
        return amount
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{what}: amount={amount} should be a float in [0, 1] or a whole number")
    return round(amount * size)


class BasePruningMethod(abc.ABC):
    """A way of choosing a mask; also the forward pre-hook that applies it (``weight = weight_orig · mask``).

    Subclasses define ``compute_mask(t, default_mask)``: the new 0/1 mask (an array shaped like
    ``t``) given the importance scores ``t`` and the mask so far; and ``PRUNING_TYPE``:
    "unstructured" (single entries), "structured" (whole slices along ``dim``) or "global".
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def __call__(self, module: Any, inputs: Any) -> None:
        """The forward pre-hook: recompute ``module.<name>`` from ``<name>_orig`` and ``<name>_mask``."""
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    @abc.abstractmethod
    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """The new mask for importance scores ``t`` (an array) given the mask so far (PyTorch's abstract method)."""

    def apply_mask(self, module: Any) -> Tensor:
        """weight_orig · weight_mask (a Tensor in the graph of weight_orig, so the gradient flows to it)."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Any = None, **kwargs: Any) -> Any:
        """Prune ``module.<name>`` with this method: weight_orig, weight_mask and the hook (see the module doc)."""
        old_key, method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if not isinstance(orig, Tensor):
            raise TypeError(f"prune: {type(module).__name__}.{name} is not a tensor (got {type(orig).__name__})")
        scores = orig if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(orig.shape):
            raise ValueError(
                f"prune: importance_scores of shape {tuple(scores.shape)} must match {name} of shape {orig.shape}"
            )
        if isinstance(method, PruningContainer):
            default_mask = getattr(module, name + "_mask").array.copy()
        else:
            default_mask = xp_of(orig.array).ones_like(orig.array)
        mask = method.compute_mask(_array(scores), default_mask)  # a bad amount raises here, nothing changed yet
        if old_key is not None:
            del module._forward_pre_hooks[old_key]
        else:
            module.register_parameter(name + "_orig", orig)  # the learned numbers move to weight_orig
            del module._parameters[name]
        module.register_buffer(name + "_mask", Tensor._wrap(mask.astype(orig.dtype, copy=False)))
        object.__setattr__(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module: Any) -> None:
        """Make the pruning permanent: ``<name>`` becomes a Parameter again holding weight_orig · mask."""
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        if name in module.__dict__:
            object.__delattr__(module, name)
        orig = module._parameters.pop(name + "_orig")
        module._buffers.pop(name + "_mask")
        module._non_persistent_buffers.discard(name + "_mask")
        orig.array[...] = weight.array  # the same Parameter object: an optimizer holding it keeps working
        module.register_parameter(name, orig)


def _array(t: Any) -> Any:
    return t.array if isinstance(t, Tensor) else np.asarray(t)


def _pruning_hooks(module: Any) -> list[tuple[int, BasePruningMethod]]:
    return [(k, hook) for k, (hook, _) in module._forward_pre_hooks.items() if isinstance(hook, BasePruningMethod)]


def _composite_method(cls: type, module: Any, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """(key of the old hook or None, method): the new method, or, if ``name`` is already pruned, a container.

    The container holds the old method(s) and the new one.
    """
    old_key, old = None, None
    for key, hook in _pruning_hooks(module):
        if hook._tensor_name == name:
            old_key, old = key, hook
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if old is None:
        return None, method
    container = PruningContainer(*old) if isinstance(old, PruningContainer) else PruningContainer(old)
    container.add_pruning_method(method)
    return old_key, container


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied one after another to one tensor (``prune`` twice: a container).

    Each new method sees only the entries (unstructured) or channels (structured) that the
    earlier ones left alive, and its ``amount`` is a fraction of those.
    """

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append a method (all methods of a container prune the same tensor)."""
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method).__name__} is not a BasePruningMethod subclass")
        if hasattr(self, "_tensor_name") and method._tensor_name != self._tensor_name:
            raise ValueError(
                f"can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                f"PruningContainer, received a method acting on '{method._tensor_name}'"
            )
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):  # noqa: D105
        return iter(self._pruning_methods)

    def __getitem__(self, i: int) -> BasePruningMethod:
        return self._pruning_methods[i]

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """The last method's mask computed on what the mask so far leaves alive, written back into it."""
        method = self._pruning_methods[-1]
        mask = default_mask.copy()
        if method.PRUNING_TYPE == "unstructured":
            alive = mask == 1  # a boolean index: the live entries, flattened
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.ndim
            others = tuple(d for d in range(t.ndim) if d != dim)
            keep = mask.sum(axis=others) != 0  # channels with at least one live entry
            alive = tuple(keep if d == dim else slice(None) for d in range(t.ndim))
        elif method.PRUNING_TYPE == "global":
            alive = tuple(slice(None) for _ in range(t.ndim))
        else:
            raise ValueError(f"unrecognized PRUNING_TYPE {method.PRUNING_TYPE!r}")
        mask[alive] = method.compute_mask(t[alive], default_mask=mask[alive])
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (puts a tensor into pruned form, weight_orig and weight_mask)."""

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """default_mask unchanged."""
        return default_mask


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen uniformly at random (the ones with the largest random keys)."""

    def __init__(self, amount: int | float) -> None:
        _count(amount, 1 if isinstance(amount, float) else amount, "random_unstructured")
        self.amount = amount

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """Zero where a uniform key is among the ``amount`` largest."""
        n = _count(self.amount, t.size, "random_unstructured")
        mask = default_mask.copy()
        if n:
            keys = generator().random(t.size)  # the library's generator, seeded by tge.manual_seed
            mask.reshape(-1)[keys.argsort(kind="stable")[::-1][:n]] = 0
        return mask


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude |t| (ties: the earlier position first)."""

    def __init__(self, amount: int | float) -> None:
        _count(amount, 1 if isinstance(amount, float) else amount, "l1_unstructured")
        self.amount = amount

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """Zero at the ``amount`` smallest |t|."""
        n = _count(self.amount, t.size, "l1_unstructured")
        mask = default_mask.copy()
        if n:
            xp = xp_of(t)
            mask.reshape(-1)[xp.abs(t).reshape(-1).argsort(kind="stable")[:n]] = 0
        return mask


class LnStructured(BasePruningMethod):
    """Prunes whole slices along ``dim`` (e.g. output channels, dim=0) with the smallest Lₙ norm.

    The norm of slice c is ‖t[..., c, ...]‖ₙ over every other dim; the ``amount`` channels with the
    smallest norms get a mask of 0 everywhere.
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: int | float | str, dim: int = -1) -> None:
        _count(amount, 1 if isinstance(amount, float) else amount, "ln_structured")
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """Zero the slices along ``dim`` of smallest norm, keeping what default_mask already zeroed."""
        xp = xp_of(t)
        dim = self.dim % t.ndim
        size = t.shape[dim]
        n_prune = _count(self.amount, size, "ln_structured")
        if n_prune == 0:
            return default_mask
        moved = xp.moveaxis(t, dim, 0).reshape(size, -1)
        order = {"fro": 2, "inf": np.inf, "-inf": -np.inf}.get(self.n, self.n) if isinstance(self.n, str) else self.n
        norms = xp.linalg.norm(moved, ord=order, axis=1)
        keep = norms.argsort(kind="stable")[::-1][: size - n_prune]  # the largest norms stay
        channel = xp.zeros(size, dtype=default_mask.dtype)
        channel[keep] = 1
        shape = [1] * t.ndim
        shape[dim] = size
        return default_mask * channel.reshape(shape)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Any) -> None:
        self.mask = mask

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """default_mask · mask."""
        return default_mask * _array(self.mask).astype(default_mask.dtype, copy=False)


def identity(module: Any, name: str) -> Any:
    """Put ``module.<name>`` in pruned form with a mask of ones (nothing pruned); returns the module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: int | float) -> Any:
    """Prune ``amount`` random entries of ``module.<name>`` (tge.manual_seed makes it repeatable); returns module."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: int | float, importance_scores: Any = None) -> Any:
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |w| (or of smallest importance_scores)."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def ln_structured(
    module: Any, name: str, amount: int | float, n: int | float | str, dim: int, importance_scores: Any = None
) -> Any:
    """Prune the ``amount`` slices along ``dim`` of ``module.<name>`` with the smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Any, name: str, mask: Any) -> Any:
    """Prune ``module.<name>`` where ``mask`` is 0; returns the module."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Any, str]], pruning_method: type, importance_scores: dict | None = None, **kwargs: Any
) -> None:
    """Prune across several tensors at once, as if they were one long vector.

    ``global_unstructured([(m.fc1, "weight"), (m.fc2, "weight")], pruning_method=prune.L1Unstructured,
    amount=0.9)`` zeroes the 90% smallest |w| of all of them together, so a layer whose weights are
    small loses more than one whose weights are large (per-layer pruning would take 90% of each).
    """
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: parameters must be a non-empty list of (module, name) pairs")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        t = _array(importance_scores.get((module, name), getattr(module, name)))
        scores.append(t.reshape(-1))
        mask = getattr(module, name + "_mask", None)
        masks.append(xp_of(t).ones(t.size, dtype=t.dtype) if mask is None else mask.array.reshape(-1))
    xp = xp_of(scores[0])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            f'global_unstructured: only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
            f"Found method {pruning_method.__name__} of type {method.PRUNING_TYPE}"
        )
    method._tensor_name = "temp"
    final = PruningContainer(method).compute_mask(xp.concatenate(scores), xp.concatenate(masks))
    start = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        custom_from_mask(module, name, final[start : start + size].reshape(getattr(module, name).shape))
        start += size


def remove(module: Any, name: str) -> Any:
    """Make the pruning of ``module.<name>`` permanent: drop weight_orig, weight_mask and the hook."""
    for key, hook in _pruning_hooks(module):
        if hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(
        f"Parameter '{name}' of module {type(module).__name__} has to be pruned before pruning can be removed"
    )


def is_pruned(module: Any) -> bool:
    """True if ``module`` or any submodule has a pruning hook (some tensor in pruned form)."""
    return any(_pruning_hooks(m) for m in module.modules())
