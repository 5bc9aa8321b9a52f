"""Version counters: how backward knows that an array it saved was changed in place afterwards.

Every Tensor carries a counter that each in-place change bumps (``x += 1``, ``x.mul_(2)``,
``x[0] = 5``, also inside ``no_grad``). Tensors that share one storage share one counter: the views
made by reshape, transpose and basic slicing, and ``x.detach()`` / ``x.data``, as in PyTorch.

When a Function saves an array for its backward that belongs to one of its inputs or to its
output, the node notes that tensor's counter and its value at that moment. Before the node's
backward runs, every noted counter must still show that value; if it moved on, the saved numbers
are no longer the ones forward used, and backward refuses with PyTorch's message, rather than
printing a gradient that is silently wrong::

    y = x.exp()          # Exp saves y (dy/dx = y)
    with tge.no_grad():
        y += 1           # y's version goes from 0 to 1
    y.sum().backward()   # RuntimeError: ... which is output 0 of Exp, is at version 1; expected version 0
"""

from __future__ import annotations

from typing import Any


class VersionCounter:
    """How many in-place changes a storage has seen (one object shared by all its views)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


def storage(a: Any) -> Any:
    """The array that owns ``a``'s memory (NumPy and CuPy point a view's ``base`` at it)."""
    base = getattr(a, "base", None)
    return a if base is None else base


def same_storage(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are views of one memory block (or the same array)."""
    return a is b or storage(a) is storage(b)


def record_saved_versions(ctx: Any, inputs: list[Any], out: Any) -> None:
    """Note the counter and version of each saved array that belongs to the output or an input.

    With them the tensor's dtype, shape and the node that made it, for the error message; the
    message itself is written only if it is ever raised (formatting a dtype costs microseconds,
    and this runs for every op that saves something).
    """
    for i, s in enumerate(ctx.saved_tensors):
        if not hasattr(s, "shape"):
            continue
        for t in (out, *inputs):
            if same_storage(s, t.array):
                made_by = ctx.name if t is out else (None if t._ctx is None else t._ctx.name)  # None: a leaf
                where = (t.dtype, t.shape, made_by)
                ctx.saved_versions.append((i, t._version_counter, t._version_counter.value, where))
                break


def _what(dtype: Any, shape: tuple[int, ...], made_by: Any) -> str:
    """The saved tensor as PyTorch names it: ``[float32 tensor [3]], which is output 0 of ExpBackward0,``."""
    tensor = f"[{dtype} tensor {list(shape)}]"
    return tensor if made_by is None else f"{tensor}, which is output 0 of {made_by},"


def check_saved_versions(ctx: Any) -> None:
    """Raise PyTorch's error if an array this node saved was changed in place after it was saved."""
    for _, counter, version, where in ctx.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: {_what(*where)} is at version {counter.value}; expected version {version} instead. "
                f"{ctx.name} saved it in forward for its backward, and an in-place change (+=, add_, mul_, "
                "x[i] = v, a write through .data or a view) altered it afterwards, so its gradient would be "
                "wrong. Make that change out of place (y = y + 1), or on a .clone() of the tensor."
            )
