"""The Tensor's shape methods: reshape, permute, expand, indexing, and cat / stack / where.

Each checks its arguments (so a mistake is reported with the shapes involved) and calls one op
from ops/movement.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import to_device
from .errors import ShapeError
from .ops import movement as M
from .ops.reduce import normalize_dims


def shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _as_array(data: Any) -> Any:
    """An index or a mask: an array stays as it is (NumPy or CuPy); a list becomes a NumPy array."""
    return data if hasattr(data, "dtype") and hasattr(data, "shape") else np.asarray(data)


def viewable(shape: tuple[int, ...], strides: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Can elements laid out with these strides be read in the `target` shape without a copy (PyTorch's view)?

    The dims of size > 1 fall into chunks that lie contiguously in memory (an outer dim's stride equals the size
    times the stride of the dim inside it). A view can split and merge dims within a chunk but never across
    two: so each chunk boundary (the running product of chunk sizes) must also be a running product of
    the target's sizes.
    """
    if int(np.prod(shape)) == 0:
        return True
    chunks: list[int] = []
    outer_stride = None
    for n, s in zip(shape, strides):
        if n == 1:
            continue
        if chunks and outer_stride == n * s:
            chunks[-1] *= n
        else:
            chunks.append(n)
        outer_stride = s
    reached, prefix = {1}, 1
    for n in target:
        prefix *= n
        reached.add(prefix)
    return all(b in reached for b in np.cumprod(chunks).tolist())


def _axis(dim: int, ndim: int, op: str) -> int:
    (axis,) = normalize_dims(dim, ndim, op)
    return axis


class TensorShape:
    """Reshaping, permuting, expanding and indexing (mixed into Tensor)."""

    def reshape(self, *shape: Any) -> Any:
        """The same elements in a new shape; one size may be −1 (inferred) (ops.movement.Reshape)."""
        return M.Reshape.apply(self, shape_args(shape))

    def view(self, *shape: Any) -> Any:
        """The same memory seen in a new shape; one size may be −1. Unlike reshape, never copies: where the
        elements' layout (after a transpose, a permute, a strided slice, an expand) cannot be read in the new
        shape without a copy, it raises PyTorch's RuntimeError, which says to use .reshape(...).
        """
        target, n = shape_args(shape), self.numel()
        known = int(np.prod([s for s in target if s != -1]))
        if target.count(-1) == 1 and known > 0:
            target = tuple(n // known if s == -1 else s for s in target)
        strides = self.stride()  # negative ones (flip: a view here, a copy in PyTorch) have no PyTorch layout
        if int(np.prod(target)) == n and min(strides, default=0) >= 0 and not viewable(self.shape, strides, target):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans "
                "across two contiguous subspaces). Use .reshape(...) instead."
            )
        return self.reshape(*shape)

    def stride(self, dim: int | None = None) -> Any:
        """How many elements apart neighbours along each dim lie in memory: (4, 1) for a fresh (3, 4) tensor,
        (1, 4) for its transpose, 0 along an expanded dim. ``stride(dim)`` is one of them.
        """
        a = self.array
        strides = tuple(s // a.itemsize for s in a.strides)
        return strides if dim is None else strides[_axis(dim, self.ndim, "stride")]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Do the elements lie in memory in row-major order with no gaps: stride 1 along the last dim, and each
        stride the size times the stride of the dim inside it? (Dims of size 1 never matter.)
        """
        if self.numel() == 0:
            return True
        expected = 1
        for n, s in zip(reversed(self.shape), reversed(self.stride())):
            if n != 1:
                if s != expected:
                    return False
                expected *= n
        return True

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        """Merge dims start_dim..end_dim into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _axis(start_dim, self.ndim, "flatten"), _axis(end_dim, self.ndim, "flatten")
        if s > e:
            raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})")
        return self.reshape(*self.shape[:s], -1, *self.shape[e + 1 :])

    def squeeze(self, dim: Any = None) -> Any:
        """Remove dims of size 1 (all of them, or those named by ``dim`` that have size 1)."""
        axes = normalize_dims(dim, self.ndim, "squeeze")
        return self.reshape(*[n for i, n in enumerate(self.shape) if not (i in axes and n == 1)])

    def unsqueeze(self, dim: int) -> Any:
        """Insert a dim of size 1 at position ``dim``."""
        axis = _axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(*self.shape[:axis], 1, *self.shape[axis:])

    def permute(self, *dims: Any) -> Any:
        """Reorder the dims: result.shape[i] = shape[dims[i]] (ops.movement.Permute)."""
        dims = shape_args(dims)
        if len(dims) != self.ndim or not all(-self.ndim <= d < self.ndim for d in dims):
            raise ShapeError(f"permute: {dims} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        axes = tuple(d % self.ndim for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ShapeError(f"permute: {dims} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return M.Permute.apply(self, axes)

    def transpose(self, dim0: int, dim1: int) -> Any:
        """Swap two dims."""
        axes = list(range(self.ndim))
        a, b = _axis(dim0, self.ndim, "transpose"), _axis(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return self.permute(*axes)

    swapaxes = transpose

    def movedim(self, source: int, destination: int) -> Any:
        """Move one dim to another position."""
        axes = list(range(self.ndim))
        axes.insert(_axis(destination, self.ndim, "movedim"), axes.pop(_axis(source, self.ndim, "movedim")))
        return self.permute(*axes)

    @property
    def T(self) -> Any:  # noqa: N802 (PyTorch's name)
        """The transpose (all dims reversed; for a matrix, rows become columns)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Any:  # noqa: N802 (PyTorch's name)
        """The last two dims swapped (a batch of transposed matrices)."""
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> Any:
        """Broadcast to a larger shape without copying; −1 keeps a size (ops.movement.Expand)."""
        sizes = shape_args(sizes)
        new = len(sizes) - self.ndim
        if new < 0:
            raise ShapeError(f"expand: cannot expand shape {self.shape} to fewer dims {sizes}")
        if any(n == -1 for n in sizes[:new]):
            raise ShapeError(f"expand: {sizes} puts -1 in a new leading dim; -1 only keeps an existing size")
        shape = []
        for i, n in enumerate(sizes):
            old = self.shape[i - new] if i >= new else 1
            size = old if n == -1 else n
            if old != 1 and size != old:
                raise ShapeError(
                    f"expand: cannot expand shape {self.shape} to {sizes}: dim {i} has size {old}, "
                    "and only dims of size 1 can grow"
                )
            shape.append(size)
        return M.Expand.apply(self, tuple(shape))

    def expand_as(self, other: Any) -> Any:
        """Expand to ``other``'s shape."""
        return self.expand(*other.shape)

    def contiguous(self, memory_format: Any = None) -> Any:
        """Self when its elements already lie in row-major order, else a row-major copy (in the graph, dx = dy)."""
        return self if self.is_contiguous() else M.Contiguous.apply(self)

    def clone(self) -> Any:
        """A copy that stays in the graph (dx = dy)."""
        return M.Copy.apply(self, None, None)

    def __getitem__(self, index: Any) -> Any:
        """x[0], x[:, 1:3], x[None], x[..., -1], x[idx_tensor], x[mask] (ops.movement.GetItem).

        PyTorch applies integers before index tensors, so x[0, :, idx] is x[0][:, idx] (shape (3, 2)
        for x of shape (4, 3, 5) and two indices), where NumPy would move idx's dim to the front.
        """
        index = self._index(index)
        parts = index if isinstance(index, tuple) else (index,)
        if 0 < self.ndim == len(parts) and all(
            isinstance(p, int | np.integer) and not isinstance(p, bool) for p in parts
        ):
            index = (*parts, Ellipsis)  # a 0-d view, not a copy: y[0, 1].mul_(2) changes y, as in PyTorch
        stages = _integers_first(index, self.ndim)
        if stages is not None:
            return M.GetItem.apply(M.GetItem.apply(self, stages[0]), stages[1])
        return M.GetItem.apply(self, index)

    def _index(self, index: Any) -> Any:
        """Index Tensors and lists become arrays on this tensor's device; float indices are refused."""
        parts = index if isinstance(index, tuple) else (index,)
        out = []
        for p in parts:
            if isinstance(p, TensorShape):
                p = p.array
            elif isinstance(p, list):
                p = np.asarray(p)
            if hasattr(p, "dtype") and getattr(p, "ndim", 0) >= 0 and not isinstance(p, np.generic):
                if p.dtype.kind not in "iub":
                    raise IndexError(f"tensors used as indices must be integer or bool, got {p.dtype}")
                p = to_device(p, self.device)
            out.append(p)
        return tuple(out) if isinstance(index, tuple) else out[0]

    def gather(self, dim: int, index: Any) -> Any:
        """Pick entries along ``dim``: out[i][j] = x[i][index[i][j]] for dim=1 (ops.movement.Gather)."""
        index = index.array if isinstance(index, TensorShape) else _as_array(index)
        if index.dtype.kind not in "iu":
            raise IndexError(f"gather: index must be an integer tensor, got {index.dtype}")
        axis = _axis(dim, max(self.ndim, 1), "gather")
        if index.ndim != self.ndim or any(k > n for a, (k, n) in enumerate(zip(index.shape, self.shape)) if a != axis):
            raise ShapeError(
                f"gather: index of shape {index.shape} does not fit input of shape {self.shape} along dim {axis}: "
                "it needs the same number of dims, and no dim other than dim may be larger than the input's"
            )
        return M.Gather.apply(self, axis, to_device(index, self.device))

    def masked_fill(self, mask: Any, value: float) -> Any:
        """Where mask is True put ``value``, elsewhere keep x (a where: no gradient at the filled places)."""
        return where(mask, value, self)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Any, ...]:
        """Cut along ``dim`` into pieces of ``split_size`` (the last may be smaller), or of the sizes in a list."""
        axis = _axis(dim, self.ndim, "split")
        n = self.shape[axis]
        if isinstance(split_size, int):
            if split_size <= 0:
                raise ShapeError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - i) for i in range(0, n, split_size)]
        else:
            sizes = [int(k) for k in split_size]
            if sum(sizes) != n:
                raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {axis} has size {n}")
        starts = np.cumsum([0, *sizes])
        lead = (slice(None),) * axis
        return tuple(self[(*lead, slice(int(a), int(b)))] for a, b in zip(starts[:-1], starts[1:]))

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Any, ...]:
        """Cut into ``chunks`` nearly equal pieces along ``dim``."""
        n = self.shape[_axis(dim, self.ndim, "chunk")]
        if not isinstance(chunks, int) or chunks < 1:
            raise ShapeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        return self.split(max(1, -(-n // chunks)), dim)


def _is_int(p: Any) -> bool:
    return isinstance(p, int | np.integer) and not isinstance(p, bool)


def _integers_first(index: Any, ndim: int) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """Split an index that mixes integers with index arrays into (the integers, the rest), or None.

    NumPy counts an integer as an advanced index next to arrays, which moves the arrays' dims to the
    front; PyTorch applies the integers first, which this split reproduces.
    """
    if not isinstance(index, tuple) or not any(_is_int(p) for p in index):
        return None
    arrays = [p for p in index if hasattr(p, "dtype") and getattr(p, "ndim", 0) >= 1]
    if not arrays:
        return None
    consumed = sum(
        p.ndim if hasattr(p, "dtype") and p.dtype == bool else 1 for p in index if p is not None and p is not Ellipsis
    )
    expanded: list[Any] = []
    for p in index:
        expanded.extend([slice(None)] * (ndim - consumed) if p is Ellipsis else [p])
    first: list[Any] = []
    for p in expanded:
        if p is None:
            continue
        width = p.ndim if hasattr(p, "dtype") and p.dtype == bool else 1
        first.extend([p] if _is_int(p) else [slice(None)] * width)
    return tuple(first), tuple(p for p in expanded if not _is_int(p))


def _tensors(tensors: Any, op: str) -> list[Any]:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(f"{op}: expects a non-empty list of tensors")
    if not all(isinstance(t, TensorShape) for t in tensors):
        raise TypeError(f"{op}: expects a list of tensors, got {[type(t).__name__ for t in tensors]}")
    return tensors


def cat(tensors: Any, dim: int = 0) -> Any:
    """Join tensors along an existing dim; all other dims must match (ops.movement.Cat)."""
    tensors = _tensors(tensors, "cat")
    first = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        raise ShapeError("cat: 0-d tensors have no dim to join along; use tge.stack to make a 1-D tensor of them")
    axis = _axis(dim, first.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis):
            raise ShapeError(f"cat: tensors must match in every dim except dim {axis}; got {first.shape} and {t.shape}")
    return M.Cat.apply(axis, *tensors)


def stack(tensors: Any, dim: int = 0) -> Any:
    """Join equal-shaped tensors along a new dim (unsqueeze each, then cat)."""
    tensors = _tensors(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(
                f"stack: expects equal shapes, got {tensors[0].shape} at entry 0 and {t.shape} at entry {i}"
            )
    axis = _axis(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(axis) for t in tensors], axis)


def where(condition: Any, x: Any, y: Any) -> Any:
    """x where condition is True, else y (x or y may be numbers) (ops.movement.Where)."""
    from .tensor import Tensor
    from .tensor_ops import constant

    cond = condition.array if isinstance(condition, TensorShape) else _as_array(condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor (e.g. x > 0), got {cond.dtype}")
    if not isinstance(x, TensorShape) and not isinstance(y, TensorShape):
        x = Tensor(x)
    like = x if isinstance(x, TensorShape) else y
    x = x if isinstance(x, TensorShape) else constant(x, like)
    y = y if isinstance(y, TensorShape) else constant(y, like)
    return M.Where.apply(to_device(cond, like.device), x, y)
