"""Reverse-mode automatic differentiation: the `Function` node and the backward walk.

Every operation is a subclass of `Function` with two static methods side by side:

    forward(ctx, *inputs)  computes the output from plain arrays (NumPy or CuPy) and saves
                           what backward will need with ``ctx.save_for_backward(...)``;
    backward(ctx, dy)      receives dL/dy (an array shaped like the output) and returns dL/dx
                           for each input of forward, by the chain rule.

``Function.apply(*args)`` runs forward on the arrays inside the Tensors and, when a gradient is
wanted, makes the instance ``ctx`` the node of the graph: it remembers its input Tensors
(``ctx.parents``) so that ``Tensor.backward()`` can walk back through it.

The walk (`backward` below) visits the graph in reverse topological order with an explicit
stack, not recursion, so a chain of 100,000 operations works.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .numerics import ieee_arithmetic

if TYPE_CHECKING:
    from .tensor import Tensor

# ---------------------------------------------------------------------------------------------
# Grad mode: is a graph being recorded?
# ---------------------------------------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default)."""
    return _grad_enabled


class _GradMode:
    """A context manager that is also a decorator, like ``torch.no_grad``."""

    enabled: bool

    def __new__(cls, fn: Callable | None = None) -> Any:
        """``no_grad()`` is a context manager or decorator; ``@no_grad`` without parentheses works too."""
        mode = super().__new__(cls)
        return mode if fn is None else mode(fn)

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Build no graph inside: for evaluation and for optimizer updates.

    ``with tge.no_grad(): ...`` or ``@tge.no_grad()`` on a function.
    """

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record a graph again inside a ``no_grad`` block."""

    enabled = True


# ---------------------------------------------------------------------------------------------
# Function: one node of the graph
# ---------------------------------------------------------------------------------------------


class Function:
    """Base class of every differentiable operation (PyTorch's ``autograd.Function`` shape).

    Subclasses write ``forward(ctx, *args)`` and ``backward(ctx, dy)`` as static methods working
    on arrays. ``backward`` returns one gradient per argument of ``forward`` (a single array when
    forward took one argument); ``None`` stands for "no gradient" (non-Tensor arguments, or
    inputs in ``ctx.needs_input_grad`` that are False). Users call ``MyOp.apply(x, ...)``.
    """

    def __init__(self) -> None:
        self.parents: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.saved_tensors: tuple[Any, ...] = ()
        self.freed = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Run every subclass's forward and backward under IEEE rules: inf/nan results, no NumPy warnings."""
        super().__init_subclass__(**kwargs)
        for method in ("forward", "backward"):
            fn = cls.__dict__.get(method)
            if isinstance(fn, staticmethod) and not hasattr(fn.__func__, "__wrapped_ieee__"):
                setattr(cls, method, staticmethod(ieee_arithmetic(fn.__func__)))

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep the arrays backward will need (freed after backward unless retain_graph)."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Function, *args: Any) -> Any:
        """Compute the output array from input arrays."""
        raise NotImplementedError("a Function subclass writes its own forward")

    @staticmethod
    def backward(ctx: Function, dy: Any) -> Any:
        """Map dL/dy to dL/dx for each input, by the chain rule."""
        raise NotImplementedError("a Function subclass writes its own backward")

    @property
    def name(self) -> str:
        """The operation's name, as shown by ``grad_fn`` and the graph drawing."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run forward on the arrays inside the Tensor arguments and record the node.

        (tinygrad_edu.profile swaps in a timed version of this method while it records.)
        """
        from .tensor import Tensor

        tensors = [a for a in args if isinstance(a, Tensor)]
        device = _common_device(cls.__name__, tensors)
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
        ctx = cls()
        y = cls.forward(ctx, *arrays)
        requires_grad = _grad_enabled and any(t.requires_grad for t in tensors)
        out = Tensor._wrap(y, device=device, requires_grad=requires_grad)
        if requires_grad:
            ctx.parents = args
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            out._ctx = ctx
        return out


def _common_device(op: str, tensors: list[Tensor]) -> str:
    """All Tensor inputs of one op must live on one device; say how to fix it if not."""
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(
            f"{op}: expected all tensors on one device, but found {sorted(devices)}. "
            "Move them together first, e.g. x.to('cuda') or y.cpu()."
        )
    return devices.pop() if devices else "cpu"


# ---------------------------------------------------------------------------------------------
# The backward walk
# ---------------------------------------------------------------------------------------------


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that lead to ``root``, each after all of its inputs (iterative depth-first search)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            for p in t._ctx.parents:
                if getattr(p, "requires_grad", False) and id(p) not in visited:
                    stack.append((p, False))
    return order


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if isinstance(grads, tuple) else (grads,)


@ieee_arithmetic  # the sums of gradients arriving along several paths overflow to inf silently too
def backward(root: Tensor, dy: Any, retain_graph: bool = False) -> None:
    """Accumulate dL/dt into ``t.grad`` for every leaf t that requires grad.

    ``dy`` is dL/droot (an array). We walk the graph from the root back to the leaves; each node's
    ``backward`` turns the gradient of its output into gradients of its inputs (the chain rule),
    and gradients arriving at one Tensor along several paths are summed.
    """
    grads: dict[int, Any] = {id(root): dy}
    kept: set[int] = set()  # arrays that a tensor now keeps as its .grad: another tensor must copy them
    for t in reversed(_topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._ctx is None or t._retains_grad:
            t._accumulate_grad(g, shared=id(g) in kept)
            kept.add(id(g))
            for hook in list(t.__dict__.get("_post_accumulate_grad_hooks", {}).values()):
                hook(t)  # Tensor.register_post_accumulate_grad_hook: e.g. DDP starts a bucket's all-reduce
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (at {ctx.name}): its saved "
                "arrays were freed by the first backward(). Call .backward(retain_graph=True) the "
                "first time if you need to go through the same graph twice."
            )
        input_grads = _as_tuple(ctx.backward(ctx, g))
        for parent, dx in zip(ctx.parents, input_grads, strict=False):
            if dx is None or not getattr(parent, "requires_grad", False):
                continue
            if dx.shape != parent.shape:
                raise RuntimeError(
                    f"{ctx.name}.backward returned a gradient of shape {tuple(dx.shape)} for an input "
                    f"of shape {parent.shape}; a gradient must have its input's shape."
                )
            if dx.dtype != parent.dtype:
                dx = dx.astype(parent.dtype)
            key = id(parent)
            grads[key] = dx if key not in grads else grads[key] + dx
        if not retain_graph:
            ctx.saved_tensors = ()
            ctx.freed = True
    _run_queued_callbacks()


# ---------------------------------------------------------------------------------------------
# Hooks: code that runs at a given moment of the backward walk
# ---------------------------------------------------------------------------------------------

_callbacks = threading.local()


def queue_callback(fn: Callable[[], None]) -> None:
    """Run ``fn()`` once, when the backward walk now under way (in this thread) has finished.

    PyTorch's engine has the same (``Variable._execution_engine.queue_callback``); DistributedDataParallel uses
    it to wait for its gradient all-reduces after the last gradient has arrived.
    """
    if not hasattr(_callbacks, "queue"):
        _callbacks.queue = []
    _callbacks.queue.append(fn)


def _run_queued_callbacks() -> None:
    queue = getattr(_callbacks, "queue", None)
    while queue:
        queue.pop(0)()


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it (PyTorch's ``RemovableHandle``)."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
