"""The Tensor: an array (NumPy on "cpu", CuPy on "cuda"), its gradient, and the op that made it.

This file holds what a Tensor *is*: construction, attributes, conversions and ``backward()``.
What a Tensor *computes* (``+``, ``exp``, ``sum``, ``@``...) lives in tensor_ops.py, its shape
methods (``reshape``, indexing...) in tensor_shape.py, each method a thin door to an op in ops/;
the in-place updates optimizers use (``w -= lr * w.grad``) are in tensor_inplace.py.
"""

from __future__ import annotations

import collections
import weakref
from typing import Any

import numpy as np

from . import autograd
from .device import array_module, check_device, device_of, to_device
from .dtypes import as_array, as_dtype
from .errors import ShapeError
from .tensor_inplace import TensorInPlace
from .tensor_ops import TensorOps
from .tensor_version import VersionCounter


class Tensor(TensorOps, TensorInPlace):
    """A multi-dimensional array that remembers how it was computed, so gradients can flow back.

    ``Tensor(data, requires_grad=False)``; prefer ``tge.tensor(...)`` and the other factories.
    Attributes: ``shape``, ``dtype``, ``ndim``, ``device``, ``requires_grad``, ``grad`` (a Tensor
    once backward has run), ``array`` (the NumPy/CuPy array itself, for reading the numbers).
    """

    __array_ufunc__ = None  # ndarray + Tensor makes NumPy call Tensor.__radd__, giving a Tensor
    __hash__ = object.__hash__  # == compares elementwise, so hashing goes by identity
    _view: tuple[Tensor, Any, int] | None = None  # for a view: (base tensor, how to view it again, version)
    _rebased_at = -1  # the version at which an in-place op last gave this tensor a new history

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None):
        self.array = as_array(data, dtype, None if device is None else check_device(device))
        self._grad: Tensor | None = None
        self._ctx: autograd.Function | None = None
        self._retains_grad = False
        self._requires_grad = False
        self._version_counter = VersionCounter()
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array: Any, device: str | None = None, requires_grad: bool = False) -> Tensor:
        """A Tensor around an existing array, with no checks or copies (used by the ops).

        NumPy turns 0-d results into scalars (``np.exp(np.asarray(1.0))`` is an ``np.float64``);
        those become 0-d arrays again, so that in-place updates such as ``x.grad.zero_()`` work.
        """
        if isinstance(array, np.generic):
            array = np.asarray(array)
        t = cls.__new__(cls)
        t.array, t._grad, t._ctx, t._retains_grad, t._requires_grad = array, None, None, False, requires_grad
        t._version_counter = VersionCounter()
        return t

    def _share_storage_with(self, other: Tensor, view_step: Any = None) -> None:
        """Make this tensor a view of ``other``'s storage: share its version counter, and, for a
        differentiable view (``view_step`` = (Function, args) that made it), remember how to view the
        base again (autograd_inplace.py needs that when this view is changed in place).
        """
        self._version_counter = other._version_counter
        base, chain = other._view[:2] if other._view is not None else (other, ())
        step = None if view_step is None or chain is None else (view_step[0], view_step[1][1:])
        self._view = (base, None if step is None else (*chain, step), self._version_counter.value)

    def _check_view_is_current(self) -> None:
        """A view whose base got a new history (an in-place op on it or on another view) is out of date."""
        if self._view is not None and self._view[0]._rebased_at > self._view[2]:
            raise RuntimeError(
                "this tensor is a view of a tensor that was changed in place (through itself or another view) "
                "after the view was taken, so its graph is out of date. Take the view again after the "
                "in-place op (v = y[0] after y.add_(...)), or .clone() the view first."
            )

    # ---- attributes --------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to (and accumulate in) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, this one is {self.array.dtype}; "
                "convert it first with .float()"
            )
        if self._ctx is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use .detach() to cut a result off the graph"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> Tensor | None:
        """dL/dself, accumulated by backward(); None until then (or after zero_grad)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with dtype "
                    f"'{self.dtype}'. The gradient must match the tensor's dtype: convert it with .to({self.dtype})"
                )
            if value.device != self.device:
                raise RuntimeError(
                    f"attempting to assign a gradient on device '{value.device}' to a tensor on '{self.device}'; "
                    f"move it with .to('{self.device}')"
                )
        self._grad = value

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (PyTorch's ``x._version``)."""
        return self._version_counter.value

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dim, a tuple."""
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        """The element type, a NumPy dtype (float32 by default)."""
        return self.array.dtype

    @property
    def ndim(self) -> int:
        """The number of dims."""
        return self.array.ndim

    @property
    def device(self) -> str:
        """Where the numbers live: "cpu" (NumPy) or "cuda" (CuPy)."""
        return device_of(self.array)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that is being recorded)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        """The node that made this tensor (None for leaves), e.g. ``<MulBackward>``."""
        return self._ctx

    @property
    def data(self) -> Tensor:
        """The same numbers, detached from the graph (shares storage and version counter), as in PyTorch."""
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        """Swap in other numbers (another storage: a fresh version counter; what backward saved stays valid)."""
        self.array = value.array if isinstance(value, Tensor) else as_array(value, device=self.device)
        self._version_counter, self._view = VersionCounter(), None

    def numel(self) -> int:
        """The number of elements."""
        return int(self.array.size)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dim."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """The number of dims (PyTorch's spelling of ndim)."""
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Any:
        """The sub-tensors along dim 0 (each in the graph, like ``x[i]``)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor: use .item() for its number")
        return (self[i] for i in range(self.shape[0]))

    # ---- conversion --------------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """The numbers as a NumPy array on the host (shares memory on "cpu").

        For a tensor that requires grad the array is a read-only view (the issue allows this where
        PyTorch refuses): a write into it would change the tensor behind autograd's back, so NumPy
        refuses the write. ``x.detach().numpy()`` gives a writable array when you mean it.
        """
        a = to_device(self.array, "cpu")
        if self.requires_grad and a is self.array:
            a = a.view()
            a.flags.writeable = False
        return a

    def _host(self) -> np.ndarray:
        return to_device(self.array, "cpu")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def item(self) -> Any:
        """The single number of a one-element tensor, as a Python number."""
        if self.numel() != 1:
            raise ShapeError(
                f"item(): only one-element tensors convert to a Python number; this one has shape {self.shape}"
            )
        return self._host().reshape(()).item()

    def tolist(self) -> Any:
        """Nested Python lists of numbers."""
        return self._host().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, this one is {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.numel()} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def detach(self) -> Tensor:
        """The same numbers cut off from the graph (shares storage and version counter; requires_grad=False)."""
        t = Tensor._wrap(self.array)
        t._version_counter = self._version_counter
        return t

    def to(self, *args: Any, dtype: Any = None, device: str | None = None) -> Tensor:
        """Move to a device and/or cast: ``x.to("cuda")``, ``x.to(tge.float64)``, ``x.to("cpu", tge.float32)``.

        Differentiable: the gradient comes back to the original device and dtype.
        """
        for a in args:
            if isinstance(a, str):
                device = a
            else:
                dtype = a
        from .ops.movement import Copy

        device = None if device is None else check_device(device)
        dtype = None if dtype is None else as_dtype(dtype)
        if (device is None or device == self.device) and (dtype is None or dtype == self.dtype):
            return self
        if device is not None:
            array_module(device)  # raises a clear error when CUDA is not usable here
        return Copy.apply(self, dtype, device)

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        """Move to the GPU (CuPy arrays); ``device`` a GPU's index (``x.cuda(1)``) or a device."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def cpu(self) -> Tensor:
        """Move to the host (NumPy arrays)."""
        return self.to("cpu")

    def float(self) -> Tensor:
        """Cast to float32 (differentiable)."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """Cast to float64 (differentiable; what gradcheck uses)."""
        return self.to(np.float64)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.to(np.float16)

    def long(self) -> Tensor:
        """Cast to int64 (class labels); no gradient flows through."""
        return Tensor._wrap(self.array.astype(np.int64))

    def int(self) -> Tensor:
        """Cast to int32; no gradient flows through."""
        return Tensor._wrap(self.array.astype(np.int32))

    def bool(self) -> Tensor:
        """Cast to bool (masks); no gradient flows through."""
        return Tensor._wrap(self.array.astype(bool))

    def type(self, dtype: Any = None) -> Any:
        """The dtype's name, or a cast to ``dtype``."""
        return str(self.dtype) if dtype is None else self.to(dtype)

    # ---- autograd ----------------------------------------------------------------------------

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it into ``leaf.grad``.

        ``self`` is usually the scalar loss; for a non-scalar, pass ``gradient`` (dL/dself).
        The graph's saved arrays are freed afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn. Make the inputs you "
                "want gradients for with requires_grad=True (e.g. tge.randn(3, requires_grad=True)), and "
                "do not compute the loss inside tge.no_grad()."
            )
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for scalar outputs, and this tensor has "
                    f"shape {self.shape}. Reduce it first (loss.sum() or loss.mean()), or pass dL/dself: "
                    "y.backward(gradient=tge.ones_like(y))."
                )
            dy = array_module(self.device).ones(self.array.shape, dtype=self.dtype)
        else:
            dy = as_array(gradient, dtype=self.dtype, device=self.device).copy()  # never alias the caller's array
            if dy.shape != self.array.shape:
                raise RuntimeError(f"backward(): gradient has shape {tuple(dy.shape)} but the tensor has {self.shape}")
        autograd.backward(self, dy, retain_graph=retain_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor too (leaves always keep theirs)."""
        self._retains_grad = True
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)

    def register_post_accumulate_grad_hook(self, hook: Any) -> autograd.RemovableHandle:
        """Call ``hook(self)`` each time backward has accumulated a gradient into this leaf's ``.grad``.

        (PyTorch's name and behaviour; DistributedDataParallel uses it to learn which gradients are ready.)
        """
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        hooks = self.__dict__.setdefault("_post_accumulate_grad_hooks", collections.OrderedDict())
        handle = autograd.RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def _accumulate_grad(self, g: Any, shared: bool = False) -> None:
        """grad += g. The first time, ``g`` itself becomes the gradient, unless it may be shared: another
        tensor keeps it already (``a + b`` hands the same array to both), or it is a view of some other
        array (a broadcast, a transpose); then a private copy, so that ``grad +=`` changes no one else's.
        """
        if self._grad is None:
            self._grad = Tensor._wrap(g.copy() if shared or g.base is not None else g)
        else:
            self._grad.array += g

    # ---- printing ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        a = self._host()
        # PyTorch's style: whole numbers print as "1.", anything else with 4 decimals ("1.5000")
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        fixed = a.dtype.kind == "f" and bool(np.any(finite != np.round(finite)))
        mode = "fixed" if fixed else "maxprec"
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode=mode)
        extras = []
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is a tinygrad_edu Tensor (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)
