"""Random tensors: rand, randn, randint, randperm, normal, bernoulli, multinomial and the *_like forms.

Each takes ``generator=`` (a ``tge.Generator``; the default generator when None, the one
``tge.manual_seed`` seeds), plus ``dtype``, ``device`` and ``requires_grad`` where PyTorch takes them.
Draws happen on the host (NumPy) and are copied to the device, so a seed gives the same numbers
on "cpu" and on "cuda". Random draws are not differentiable (no graph is recorded).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .device import check_device, to_device
from .dtypes import as_dtype
from .random import Generator
from .random import generator as rng_of
from .tensor import Tensor
from .tensor_shape import shape_args


def _make(array: np.ndarray, dtype: Any, device: Any, requires_grad: bool = False) -> Tensor:
    array = array.astype(dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype), copy=False)
    return Tensor(to_device(array, check_device(device)), requires_grad=requires_grad)


def _size(shape: tuple[Any, ...], size: Any) -> tuple[int, ...]:
    """``rand(2, 3)``, ``rand((2, 3))`` and ``rand(size=(2, 3))`` all mean shape (2, 3)."""
    if size is not None:
        if shape:
            raise TypeError("give the shape either as arguments or as size=, not both")
        shape = (size,)
    return shape_args(shape)


def rand(
    *shape: Any,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
    size: Any = None,
) -> Tensor:
    """Draws from the uniform U[0, 1)."""
    return _make(rng_of(generator).random(_size(shape, size)), dtype, device, requires_grad)


def randn(
    *shape: Any,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
    size: Any = None,
) -> Tensor:
    """Draws from the standard normal N(0, 1)."""
    return _make(rng_of(generator).standard_normal(_size(shape, size)), dtype, device, requires_grad)


def randint(
    low: int,
    high: Any = None,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from [low, high), int64: ``randint(0, 10, (3,))`` or ``randint(10, (3,))``."""
    if size is None:
        if high is None:
            raise TypeError("randint: give a size, e.g. tge.randint(0, 10, (3,)) or tge.randint(10, (3,))")
        low, high, size = 0, low, high  # PyTorch's randint(high, size)
    if high <= low:
        raise RuntimeError(f"randint: expects low < high, got low={low}, high={high}")
    size = (size,) if isinstance(size, int) else tuple(size)
    draws = rng_of(generator).integers(low, high, size)
    return _make(draws, np.int64 if dtype is None else dtype, device, requires_grad)


def randperm(
    n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False
) -> Tensor:
    """A random ordering of 0 … n−1 (int64)."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return _make(rng_of(generator).permutation(n), np.int64 if dtype is None else dtype, device, requires_grad)


def _array(v: Any) -> Any:
    return v.numpy() if isinstance(v, Tensor) else np.asarray(v, dtype=np.float64)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Draws from N(mean, std²): ``normal(0.0, 1.0, size=(3,))``, or elementwise from tensors of means and
    stds (broadcast together; the result takes their shape, dtype and device).

    Each draw is mean + std · z with z from N(0, 1).
    """
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise RuntimeError("normal: size= is only for float mean and std; with tensors the shape is theirs")
        shape = np.broadcast_shapes(*(np.shape(_array(v)) for v in (mean, std)))
        dtype = tensors[0].dtype if dtype is None else dtype
        device = tensors[0].device if device is None else device
    elif size is None:
        raise TypeError("normal: with float mean and std give a size, e.g. tge.normal(0.0, 1.0, size=(3,))")
    else:
        shape = shape_args((size,))
    s = _array(std)
    if np.any(s < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    z = rng_of(generator).standard_normal(shape)
    return _make(_array(mean) + s * z, dtype, "cpu" if device is None else device, requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:  # noqa: A002
    """1 with probability p (each element of ``input``, or the number ``p``), else 0; input's shape and dtype."""
    probs = input.numpy() if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
        raise RuntimeError("bernoulli: expects 0 <= p <= 1")
    draws = rng_of(generator).random(input.shape) < probs
    return _make(draws, input.dtype, input.device)


def multinomial(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Draw ``num_samples`` category indices per row, category i with probability wᵢ / Σw (int64).

    ``input`` is a 1-D or 2-D tensor of non-negative weights (they need not sum to 1). Without
    replacement each category is drawn at most once, so a row needs ``num_samples`` nonzero weights.
    """
    w = input.numpy().astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {num_samples}")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and np.any((rows > 0).sum(axis=1) < num_samples):
        raise RuntimeError(
            f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1) nonzero categories "
            "without replacement; pass replacement=True"
        )
    rng = rng_of(generator)
    out = np.stack([rng.choice(len(r), size=num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    out = out.reshape(*w.shape[:-1], num_samples)
    return _make(out, np.int64, input.device)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def rand_like(
    t: Tensor,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Uniform draws with t's shape, dtype and device."""
    dtype, device = _like(t, dtype, device)
    return rand(*t.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(
    t: Tensor,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Standard normal draws with t's shape, dtype and device."""
    dtype, device = _like(t, dtype, device)
    return randn(*t.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(
    t: Tensor,
    low: int,
    high: int | None = None,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
) -> Tensor:
    """Integers from [low, high) (or [0, low)) with t's shape, dtype and device."""
    if high is None:
        low, high = 0, low
    dtype, device = _like(t, dtype, device)
    return randint(low, high, t.shape, generator=generator, dtype=dtype, device=device)
