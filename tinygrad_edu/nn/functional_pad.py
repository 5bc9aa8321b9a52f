"""F.pad and F.interpolate: changing an image's size, as PyTorch's.

Padding with a constant is its own op (ops/conv_extra.ConstantPad). The other modes only decide
*which* input element each new border element copies, so along one dim they are an index map,
and the padded tensor is ``x[..., index, ...]`` (whose backward adds the border's gradients onto
the elements they copied):

    reflect   i ↦ |i| mirrored at both ends, edge not repeated   (… 2 1 | 0 1 2 … n−1 | n−2 …)
    replicate i ↦ clamp(i, 0, n − 1)                             (… 0 0 | 0 1 2 … n−1 | n−1 …)
    circular  i ↦ i mod n                                        (… n−2 n−1 | 0 1 … | 0 1 …)

Resizing is linear in the input too, separately along each dim: out = A x with a matrix A
(out_size × in_size) whose row o holds the weights of the input elements that output o reads —
one 1 for "nearest", two weights 1 − λ and λ for "linear"/"bilinear". Applying A along H and
then along W is two matmuls, whose backward (Aᵀ dy) comes for free.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.conv_extra import ConstantPad
from ..tensor import Tensor


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: fold i into 0..n−1 without repeating the edge
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)/2 dims: ``pad = (left, right, top, bottom, ...)`` starts from the last dim.

    ``mode``: "constant" (with ``value``, default 0; negative amounts crop), "reflect", "replicate", "circular".
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2·{input.ndim}, got {pad}")
    pairs = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        pairs[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        return ConstantPad.apply(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in a value argument")
    out = input
    for dim, (before, after) in enumerate(pairs):
        if not (before or after):
            continue
        n = input.shape[dim]
        if mode == "reflect" and (before >= n or after >= n):
            raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the dim's size {n}")
        if mode == "circular" and (before > n or after > n):
            raise ValueError(f"pad: circular padding ({before}, {after}) must be at most the dim's size {n}")
        if min(before, after) < 0:
            raise ValueError(f"pad: negative padding is only supported with mode='constant', got {pad}")
        index = (slice(None),) * dim + (_pad_index(n, before, after, mode),)
        out = out[index]
    return out


def _resize_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None) -> np.ndarray:
    """A (n_out, n_in): row o holds the weights output o gives the inputs (PyTorch's source-index formulas)."""
    a = np.zeros((n_out, n_in), dtype=np.float64)
    o = np.arange(n_out)
    ratio = 1.0 / scale if scale is not None else n_in / n_out  # input elements per output element
    if mode == "nearest":
        src = np.minimum(np.floor(o * ratio).astype(np.int64), n_in - 1)
        a[o, src] = 1.0
        return a
    if mode == "nearest-exact":
        src = np.minimum(np.floor((o + 0.5) * ratio).astype(np.int64), n_in - 1)
        a[o, src] = 1.0
        return a
    if align_corners:
        src = o * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((o + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(a, (o, i0), 1 - lam)
    np.add.at(a, (o, i1), lam)
    return a


_MODES = {"nearest": None, "nearest-exact": None, "linear": 3, "bilinear": 4}


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``.

    ``mode``: "nearest", "nearest-exact" (any of the two shapes), "linear" (3-D), "bilinear"
    (4-D), with ``align_corners`` for the last two. The sizes are ⌊in · scale_factor⌋.
    """
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not supported here; use one of {sorted(_MODES)}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported here")
    if _MODES[mode] is not None and input.ndim != _MODES[mode]:
        raise ValueError(f"interpolate: mode {mode!r} expects a {_MODES[mode]}-D input, got shape {input.shape}")
    if input.ndim not in (3, 4):
        raise ValueError(f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got {input.shape}")
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError("interpolate: align_corners only has an effect with mode 'linear' or 'bilinear'")
    spatial = input.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sizes = tuple(size) if isinstance(size, tuple | list) else (size,) * len(spatial)
        scales: tuple = (None,) * len(spatial)
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, tuple | list) else (scale_factor,) * len(spatial)
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        scales = (None,) * len(spatial) if recompute_scale_factor else tuple(float(f) for f in factors)
    if len(sizes) != len(spatial) or min(sizes) < 1:
        raise ValueError(f"interpolate: output size {sizes} does not fit input {input.shape}")
    out = input
    for k, (n_in, n_out, scale) in enumerate(zip(spatial, sizes, scales)):
        if n_in == n_out and scale in (None, 1.0):
            continue
        a = _resize_matrix(n_in, n_out, mode, bool(align_corners), scale)
        a = Tensor(a.astype(input.dtype), device=input.device)
        axis = 2 + k
        out = (a @ out.movedim(axis, -2)).movedim(-2, axis)  # A applied along this axis
    return out.contiguous()  # a fresh row-major tensor, as PyTorch's (so .view works on it)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:  # fmt: skip
    """The old name of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)
