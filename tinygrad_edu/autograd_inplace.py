"""In-place operations inside the graph: ``y += x``, ``y.relu_()``, ``scores[~mask] = -1e6``.

Rebasing the history
--------------------
A tensor's *history* is the node that made it (``y.grad_fn``): backward starts there to send the
gradient of ``y`` back to the leaves. An in-place op changes ``y``'s numbers without making a new
Tensor, so ``y`` must get a new history too::

    y = conv(x)          # y.grad_fn = Conv2d            y₀ = conv(x)
    y += x               # y.grad_fn = Add(y₀, x)        y₁ = y₀ + x

Here is how. The op is computed out of place, by the ordinary Function (``Add.apply(y, x)``): its
node points back to ``y``'s old history (Conv2d) and to ``x``, exactly as ``z = y + x`` would. The
result's numbers are written into ``y``'s own storage, so every alias of ``y`` sees them, and that
new node becomes ``y.grad_fn``: the history of ``y`` is *rebased* onto the new node. Ops that ran
before still point at the old node (their inputs were ``y₀``), so their gradients stay right.

Two things keep this honest:

- **The old numbers.** If the op's own backward needs ``y₀`` (``y.mul_(w)`` needs it for ``dw``),
  the node keeps a copy of it, since ``y``'s storage is about to be overwritten. Any *other* node
  that saved ``y₀`` now holds changed numbers: ``y``'s version counter moved on, so that backward
  refuses with PyTorch's "modified by an inplace operation" error (tensor_version.py). A result
  the new node saved (``exp_`` saves e^x) is its own array, so later changes of ``y`` cannot alter it.
- **Leaves.** A leaf that requires grad (a weight) has no history to rebase: its gradient is
  accumulated into it. Changing it in place while recording is refused, as in PyTorch; optimizers
  do their updates inside ``no_grad``.

A view (``v = y[0]``, ``y.view(...)``, ``y.T``) shares ``y``'s storage, so ``v.mul_(2)`` changes ``y``
too. Then ``y`` is rebased onto a ``ViewAssign`` node ("y with the region of v replaced": PyTorch's
``CopySlices``), and ``v``'s history becomes "that region of the new ``y``". Other views taken of
``y`` before are out of date afterwards: using them in the graph raises, saying to take them again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import autograd
from .autograd import Function
from .device import xp_of
from .ops.elementwise import unbroadcast
from .tensor_version import same_storage

if TYPE_CHECKING:
    from .tensor import Tensor


class IndexPut(Function):
    """y = x with y[index] = v (v broadcast to the indexed region)      (``x[index] = v``)

    dx = dy with dy[index] = 0 (those elements were overwritten);   dv = dy[index], summed to v's shape
    """

    @staticmethod
    def forward(ctx, x, v, index):
        """See the class docstring."""
        ctx.index, ctx.v_shape = index, v.shape
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def backward(ctx, dy):
        """See the class docstring."""
        dx = None
        if ctx.needs_input_grad[0]:
            dx = dy.copy()
            dx[ctx.index] = 0
        dv = None
        if ctx.needs_input_grad[1]:
            region = dy[ctx.index]
            extra = len(ctx.v_shape) - region.ndim  # v may carry extra leading dims of size 1
            dv = unbroadcast(region.reshape((1,) * extra + region.shape) if extra > 0 else region, ctx.v_shape)
        return dx, dv, None


class Overwrite(Function):
    """y = src broadcast to x's shape (x's numbers are all replaced)     (``x.copy_(src)``, ``x.fill_(v)``)

    dx = 0;   dsrc = dy summed to src's shape
    """

    @staticmethod
    def forward(ctx, x, src):
        """See the class docstring."""
        ctx.src_shape = src.shape
        y = xp_of(x).empty_like(x)
        y[...] = src
        return y

    @staticmethod
    def backward(ctx, dy):
        """See the class docstring."""
        dx = xp_of(dy).zeros_like(dy) if ctx.needs_input_grad[0] else None
        return dx, unbroadcast(dy, ctx.src_shape) if ctx.needs_input_grad[1] else None


class _NoCtx:
    """A throwaway ctx for replaying a view op's forward on a plain array."""


def view_region(a: Any, chain: tuple[Any, ...]) -> Any:
    """The part of array ``a`` (shaped like the base) that the view ``chain`` looks at, as a view of ``a``."""
    region = a
    for cls, args in chain:
        region = cls.forward(_NoCtx(), region, *args)
    return region


class ViewAssign(Function):
    """y = base with the region that a view looks at replaced by v      (an in-place op on a view)

    dbase = dy with that region set to 0;   dv = dy's region
    """

    @staticmethod
    def forward(ctx, base, v, chain):
        """See the class docstring."""
        ctx.chain = chain
        y = base.copy()
        view_region(y, chain)[...] = v
        return y

    @staticmethod
    def backward(ctx, dy):
        """See the class docstring."""
        dbase = None
        if ctx.needs_input_grad[0]:
            dbase = dy.copy()
            view_region(dbase, ctx.chain)[...] = 0
        dv = view_region(dy, ctx.chain) if ctx.needs_input_grad[1] else None
        return dbase, dv, None


# ---------------------------------------------------------------------------------------------
# Running an in-place op
# ---------------------------------------------------------------------------------------------


def run_inplace(
    t: Tensor, op: str, compute: Callable[[Tensor], Tensor], fast: Callable[[Any], Any], others=()
) -> Tensor:
    """Change ``t`` in place: ``fast(t.array)`` when no graph is recorded, else ``compute(t)`` and rebase.

    ``compute`` is the out-of-place form (``lambda t: t + other``); ``others`` are the other operands
    (a Tensor among them that requires grad makes the op recorded even if ``t`` does not).
    """
    from .tensor import Tensor

    if not t.array.flags.writeable:
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expanded view). Please clone() the tensor before performing the operation."
        )
    wants_grad = t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
    if not (autograd.is_grad_enabled() and wants_grad):
        fast(t.array)
        t._version_counter.value += 1
        return t
    if t._ctx is None and t.requires_grad:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation. Its gradient is "
            "accumulated into it, so it has no history to rebase. Update weights inside `with tge.no_grad():` "
            "(as optimizers do), or work on a copy: y = w.clone(), then change y."
        )
    view = t._view
    if view is not None:
        base, chain = view[0], view[1]
        if base._ctx is None and base.requires_grad:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place operation. "
                "Update it inside `with tge.no_grad():`, or change a .clone() of it."
            )
        if chain is None:
            raise RuntimeError(
                f"{op}: this tensor shares its storage with another one in a way the graph cannot follow; "
                "change a .clone() of it instead."
            )
        t._check_view_is_current()
    out, nodes = _recorded(lambda: compute(t), t)
    _keep_original_numbers(nodes, t, out)
    t.array[...] = out.array
    t._version_counter.value += 1
    _rebase(t, out._ctx, nodes)
    if view is None:
        t._rebased_at = t._version_counter.value
        return t
    new_base, nodes = _recorded(lambda: ViewAssign.apply(base, t, chain), base)
    _rebase(base, new_base._ctx, nodes)
    changed = Tensor._wrap(t.array, requires_grad=True)  # drawn as ViewAssign's input: t after the op
    changed._ctx = t._ctx
    new_base._ctx.parents = tuple(changed if p is t else p for p in new_base._ctx.parents)
    base._rebased_at = t._version_counter.value
    v = base
    for cls, args in chain:  # t's history: the same region of the new base
        v = cls.apply(v, *args)
    t._ctx, t._view = v._ctx, (base, chain, t._version_counter.value)
    if t._retains_grad:
        t._ctx.retained = weakref.ref(t)
    return t


def _recorded(compute: Callable[[], Tensor], *rebased: Tensor) -> tuple[Tensor, list[Function]]:
    """Run ``compute`` (recording a graph) and return its result with the nodes it made."""
    state = autograd._state
    outer, state.new_nodes = state.new_nodes, []
    try:
        out = compute()
        nodes = state.new_nodes
    finally:
        state.new_nodes = outer
    if rebased and out.dtype != rebased[0].dtype:  # float32 += float64 stays float32, as in PyTorch
        out = out.to(rebased[0].dtype)
        nodes.append(out._ctx)
    if rebased and out.shape != rebased[0].shape:
        raise RuntimeError(
            f"output with shape {list(rebased[0].shape)} doesn't match the broadcast shape {list(out.shape)}"
        )
    return out, nodes


def _keep_original_numbers(nodes: list[Function], t: Tensor, out: Tensor) -> None:
    """The new nodes that saved ``t``'s old numbers keep a copy: ``t``'s storage is about to be overwritten."""
    for node in nodes:
        saved = list(node.saved_tensors)
        for i, s in enumerate(saved):
            if s is not out.array and hasattr(s, "shape") and same_storage(s, t.array):
                saved[i] = s.copy()
                node.saved_versions = [r for r in node.saved_versions if r[0] != i]
        node.saved_tensors = tuple(saved)


def _rebase(t: Tensor, node: Function, nodes: list[Function]) -> None:
    """``t`` takes ``node`` as its history; in the new nodes' drawn inputs, ``t`` is its old self."""
    from .tensor import Tensor

    before = Tensor._wrap(t.array, requires_grad=t.requires_grad)
    before._ctx = t._ctx
    for n in nodes:
        n.parents = tuple(before if p is t else p for p in n.parents)
    if t._ctx is not None and t._retains_grad:
        t._ctx.retained = None
    t._ctx, t._requires_grad = node, True
    if t._retains_grad:
        node.retained = weakref.ref(t)
