"""Reverse-mode automatic differentiation: the `Function` node and the backward walk.

Every operation is a subclass of `Function` with two static methods side by side:

    forward(ctx, *inputs)  computes the output from plain arrays (NumPy or CuPy) and saves
                           what backward will need with ``ctx.save_for_backward(...)``;
    backward(ctx, dy)      receives dL/dy (an array shaped like the output) and returns dL/dx
                           for each input of forward, by the chain rule.

``Function.apply(*args)`` runs forward on the arrays inside the Tensors and, when a gradient is
wanted, makes the instance ``ctx`` the node of the graph. The node points back to where each
input came from (``ctx.edges``, PyTorch's ``next_functions``): the node that made that input at
that moment, or the leaf Tensor itself (where the gradient is accumulated). It does not hold the
inputs' arrays, except those forward saved. ``ctx.parents`` keeps the input Tensors for reading
and drawing the graph, until backward frees the node.

The walk (`backward` below) visits the nodes in reverse topological order with an explicit stack,
not recursion, so a chain of 100,000 operations works. Without ``retain_graph`` each node is freed
as soon as its backward has run: its saved arrays and its inputs are dropped, and only what a
second backward needs in order to say "already freed" is kept.

Grad mode (``no_grad`` ...) is per thread, as in PyTorch: a ``no_grad`` block in one thread does
not stop another thread from recording its graph. Every new thread starts with grad enabled.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .autograd_hooks import RemovableHandle as RemovableHandle  # re-exported: autograd.RemovableHandle
from .autograd_hooks import _run_queued_callbacks
from .autograd_hooks import queue_callback as queue_callback  # re-exported: autograd.queue_callback
from .numerics import ieee_arithmetic
from .tensor_version import VersionCounter, check_saved_versions, record_saved_versions, same_storage

if TYPE_CHECKING:
    from .tensor import Tensor

# ---------------------------------------------------------------------------------------------
# Grad mode: is a graph being recorded? (one flag per thread)
# ---------------------------------------------------------------------------------------------


class _ThreadState(threading.local):
    """Each thread sees its own copy of these attributes, starting from the class defaults."""

    grad_enabled = True
    inference_depth = 0  # how many inference_mode() blocks the thread is inside
    new_nodes: list | None = None  # while an in-place op runs: the nodes it records (autograd_inplace.py)

    def __init__(self) -> None:
        self.previous: list[bool] = []  # the modes saved by the grad-mode blocks this thread is inside


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default), in the calling thread."""
    return _state.grad_enabled


class _GradMode:
    """A context manager that is also a decorator, like ``torch.no_grad``.

    The mode to restore is pushed on a stack that belongs to the thread, so blocks entered and left
    by several threads in any interleaving each restore their own thread's mode.
    """

    enabled: bool

    def __new__(cls, fn: Callable | None = None) -> Any:
        """``no_grad()`` is a context manager or decorator; ``@no_grad`` without parentheses works too."""
        mode = super().__new__(cls)
        return mode if fn is None else mode(fn)

    def __enter__(self) -> None:
        _state.previous.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = _state.previous.pop()

    def __call__(self, fn: Callable) -> Callable:
        self._decorating()

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper

    def _decorating(self) -> None:
        """Called once when the manager decorates a function."""

    def _fresh(self) -> _GradMode:
        """A new manager for one call of the decorated function."""
        return type(self)()


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Build no graph inside: for evaluation and for optimizer updates.

    ``with tge.no_grad(): ...`` or ``@tge.no_grad()`` on a function.
    """

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record a graph again inside a ``no_grad`` block."""

    enabled = True


class inference_mode(_GradMode):  # noqa: N801 (PyTorch's name)
    """``inference_mode()`` is ``no_grad()`` here; ``inference_mode(False)`` leaves the mode as it is."""

    def __new__(cls, mode: Any = True) -> Any:
        """``inference_mode()``, ``inference_mode(False)``, or ``@inference_mode`` on a function."""
        if callable(mode):  # @inference_mode without parentheses
            return cls(True)(mode)
        manager = object.__new__(cls)
        manager.mode = bool(mode)
        return manager

    def __enter__(self) -> None:
        _state.previous.append(_state.grad_enabled)
        _state.grad_enabled = _state.grad_enabled and not self.mode
        _state.inference_depth += self.mode

    def __exit__(self, *exc: object) -> None:
        _state.inference_depth -= self.mode
        super().__exit__(*exc)

    def _fresh(self) -> _GradMode:
        return type(self)(self.mode)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` in the calling thread (where no graph is recorded)."""
    return _state.inference_depth > 0 and not _state.grad_enabled


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name)
    """Turn recording on or off: ``tge.set_grad_enabled(False)`` now (in this thread), or
    ``with tge.set_grad_enabled(is_train): ...`` for a block, restoring the previous mode after it.
    """

    def __new__(cls, mode: bool) -> Any:
        """Set the mode now; entering the block sets it, leaving restores what was there before."""
        manager = object.__new__(cls)
        manager.enabled = bool(mode)
        manager._before = _state.grad_enabled
        _state.grad_enabled = manager.enabled  # takes effect at once, as in PyTorch
        return manager

    def __enter__(self) -> None:
        _state.previous.append(self._before)
        _state.grad_enabled = self.enabled

    def _decorating(self) -> None:
        _state.grad_enabled = self._before  # used as a decorator: making it changed nothing

    def _fresh(self) -> _GradMode:
        return type(self)(self.enabled)


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
        self.edges: tuple[Any, ...] = ()  # per input: None, a leaf Tensor, or the node that made it
        self.needs_input_grad: tuple[bool, ...] = ()
        self.saved_tensors: tuple[Any, ...] = ()
        self.saved_versions: list[tuple[int, VersionCounter, int, tuple[Any, ...]]] = []
        self.freed = False
        self.retained: Any = None  # a weak reference to the output Tensor, after y.retain_grad()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Run every subclass's forward and backward under IEEE rules: inf/nan results, no NumPy warnings."""
        super().__init_subclass__(**kwargs)
        for method in ("forward", "backward"):
            fn = cls.__dict__.get(method)
            if isinstance(fn, staticmethod) and not hasattr(fn.__func__, "__wrapped_ieee__"):
                setattr(cls, method, staticmethod(ieee_arithmetic(fn.__func__)))

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep the arrays backward will need (freed after backward unless retain_graph).

        ``apply`` notes the version of every saved array that belongs to an input or to the output,
        so that backward can refuse to use one that was changed in place afterwards.
        """
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

    @property
    def next_functions(self) -> tuple[Any, ...]:
        """Where the gradient goes next, one entry per Tensor input (PyTorch's name): a node, or a leaf."""
        return tuple(e for e in self.edges if e is not None)

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
        requires_grad = _state.grad_enabled and any(t.requires_grad for t in tensors)
        out = Tensor._wrap(y, device=device, requires_grad=requires_grad)
        view_of = next((t for t in tensors if same_storage(out.array, t.array)), None)
        if view_of is not None:  # a view (reshape, transpose, basic slice): one storage, one version counter
            out._share_storage_with(view_of, (cls, args) if args[0] is view_of and len(tensors) == 1 else None)
        if requires_grad:
            for t in tensors:
                if t._view is not None:
                    t._check_view_is_current()
            ctx.parents = args
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            ctx.edges = tuple(_edge(a) if isinstance(a, Tensor) and a.requires_grad else None for a in args)
            ctx._y_shape, ctx._y_dtype = out.shape, out.dtype  # kept: they check the gradient that arrives
            ctx.freed = False
            if ctx.saved_tensors:
                record_saved_versions(ctx, tensors, out)
            out._ctx = ctx
            if _state.new_nodes is not None:
                _state.new_nodes.append(ctx)
        return out

    def _free(self) -> None:
        """Drop everything but what a second backward needs to say "already freed" (and where to go next)."""
        keep = {key: self.__dict__[key] for key in ("edges", "_y_shape", "_y_dtype") if key in self.__dict__}
        self.__dict__.clear()
        self.__dict__.update(keep, parents=(), saved_tensors=(), saved_versions=[], freed=True, retained=None)


def _edge(t: Tensor) -> Any:
    """Where the gradient of input ``t`` goes: the node that made it, or the leaf itself."""
    return t if t._ctx is None else t._ctx


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


def _topological_order(root: Function) -> list[Function]:
    """Nodes that lead to ``root``, each after all of the nodes that made its inputs (iterative DFS)."""
    order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for e in node.edges:
            if isinstance(e, Function) and id(e) not in visited:
                stack.append((e, False))
    return order


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if isinstance(grads, tuple) else (grads,)


def _freed_error(node: Function) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (at {node.name}): its saved arrays were freed "
        "by the first backward(). Call .backward(retain_graph=True) the first time if you need to go "
        "through the same graph twice."
    )


@ieee_arithmetic  # the sums of gradients arriving along several paths overflow to inf silently too
def backward(root: Tensor, dy: Any, retain_graph: bool = False) -> None:
    """Accumulate dL/dt into ``t.grad`` for every leaf t that requires grad (and each retained non-leaf).

    ``dy`` is dL/droot (an array). We walk the nodes from the root back to the leaves; each node's
    ``backward`` turns the gradient of its output into gradients of its inputs (the chain rule),
    and gradients arriving at one node or leaf along several paths are summed.
    """
    if root._ctx is None:  # the root is a leaf itself: dL/dleaf = dy
        root._accumulate_grad(dy)
        for hook in list(root.__dict__.get("_post_accumulate_grad_hooks", {}).values()):
            hook(root)
        return
    grads: dict[int, Any] = {id(root._ctx): dy}
    order = list(reversed(_topological_order(root._ctx)))
    # how many edges still lead into each leaf: at zero its gradient is complete, so it is accumulated at once
    # (and its post-accumulate hooks run mid-walk, as PyTorch's do: DDP overlaps its all-reduces with backward)
    pending: dict[int, int] = {}
    for node in order:
        for edge in node.edges:
            if edge is not None and not isinstance(edge, Function):
                pending[id(edge)] = pending.get(id(edge), 0) + 1
    kept: set[int] = set()  # arrays that a tensor now keeps as its .grad: another tensor must copy them

    def leaf_done(leaf: Tensor) -> None:
        g = grads.pop(id(leaf), None)
        if g is None:
            return
        leaf._accumulate_grad(g, shared=id(g) in kept)
        kept.add(id(g))
        for hook in list(leaf.__dict__.get("_post_accumulate_grad_hooks", {}).values()):
            hook(leaf)  # Tensor.register_post_accumulate_grad_hook: e.g. DDP starts a bucket's all-reduce

    for node in order:
        g = grads.pop(id(node), None)
        edges_done = [e for e in node.edges if e is not None and not isinstance(e, Function)]
        if g is not None:
            retained = node.retained() if node.retained is not None else None
            if retained is not None:
                retained._accumulate_grad(g, shared=id(g) in kept)
                kept.add(id(g))
            if node.freed:
                raise _freed_error(node)
            check_saved_versions(node)
            input_grads = _as_tuple(node.backward(node, g))
            for edge, dx in zip(node.edges, input_grads, strict=False):
                if dx is None or edge is None:
                    continue
                is_node = isinstance(edge, Function)
                shape, dtype = (edge._y_shape, edge._y_dtype) if is_node else (edge.shape, edge.dtype)
                if tuple(dx.shape) != tuple(shape):
                    raise RuntimeError(
                        f"{node.name}.backward returned a gradient of shape {tuple(dx.shape)} for an input "
                        f"of shape {tuple(shape)}; a gradient must have its input's shape."
                    )
                if dx.dtype != dtype:
                    dx = dx.astype(dtype)
                key = id(edge)
                grads[key] = dx if key not in grads else grads[key] + dx
            if not retain_graph:
                node._free()
        for leaf in edges_done:
            pending[id(leaf)] -= 1
            if pending[id(leaf)] == 0:
                leaf_done(leaf)
    _run_queued_callbacks()
