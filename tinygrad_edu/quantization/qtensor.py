"""Affine quantization: real numbers stored as small integers, a scale and a zero point.

An 8-bit integer q stands for the real number

    x̂ = s · (q − z)                                  (dequantize)

with a scale s > 0 (the real size of one integer step) and a zero point z (the integer that
stands for the real 0, so that zero padding and ReLU are exact). Quantizing is the inverse,
rounded to the nearest step and clamped to what the integer type holds:

    q = clamp(round(x / s) + z, qmin, qmax)           (quantize)

    type     qmin   qmax   used for
    quint8      0    255   activations (after ReLU mostly ≥ 0: the range [0, 255] is all used)
    qint8    −128    127   weights (symmetric around 0: z = 0)
    qint32   −2³¹   2³¹−1  the bias and the sums inside a quantized layer

The error of one number is at most s/2 inside the range [s(qmin − z), s(qmax − z)]; outside it
the number is clipped. Per tensor there is one (s, z) for all entries; per channel one per slice
along ``axis`` (a weight's output channels, each with its own range). ``round`` is round half to
even, and x / s is computed as x · (1/s) in float32, as PyTorch does, so the integers are
PyTorch's bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor


@dataclass(frozen=True)
class QDtype:
    """A quantized integer type: its name, the NumPy type of the integers, and their range."""

    name: str
    numpy: Any
    qmin: int
    qmax: int

    def __repr__(self) -> str:
        return f"tge.quantization.{self.name}"

    def __reduce__(self) -> tuple:
        return (as_qdtype, (self.name,))  # copies and pickles are the one object: ``dtype is quint8`` holds


quint8 = QDtype("quint8", np.uint8, 0, 255)
qint8 = QDtype("qint8", np.int8, -128, 127)
qint32 = QDtype("qint32", np.int32, -(2**31), 2**31 - 1)
_QDTYPES = {d.name: d for d in (quint8, qint8, qint32)}


def as_qdtype(dtype: Any) -> QDtype:
    """A QDtype from quint8 / qint8 / qint32, their names, or torch's (``torch.quint8``)."""
    if isinstance(dtype, QDtype):
        return dtype
    name = str(dtype).rsplit(".", 1)[-1]
    if name not in _QDTYPES:
        raise TypeError(f"{dtype!r} is not a quantized dtype: use quantization.quint8, qint8 or qint32")
    return _QDTYPES[name]


def _values(x: Any) -> np.ndarray:
    return np.asarray(x.array if isinstance(x, Tensor) else x)


def _quantize(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, dtype: QDtype) -> np.ndarray:
    """clamp(round(x · (1/s)) + z, qmin, qmax) in float32 (PyTorch's arithmetic), as dtype's integers."""
    inverse = np.float32(1.0) / scale.astype(np.float32)
    q = np.rint(x.astype(np.float32) * inverse) + zero_point.astype(np.float32)
    return np.clip(q, dtype.qmin, dtype.qmax).astype(dtype.numpy)


class QTensor:
    """A quantized tensor: integers q with scale(s) and zero point(s); it stands for s · (q − z).

    Made by ``quantize_per_tensor`` / ``quantize_per_channel`` (or a quantized layer). Like
    PyTorch's quantized tensors: ``int_repr()`` the integers, ``q_scale()``/``q_zero_point()``
    (per tensor) or ``q_per_channel_scales()``/``…_zero_points()``/``…_axis()``, and
    ``dequantize()`` back to float32. Only reshaping works on it directly; everything else
    first dequantizes (a DeQuantStub) or runs a quantized layer.
    """

    def __init__(self, q: np.ndarray, scale: Any, zero_point: Any, dtype: QDtype, axis: int | None = None) -> None:
        self.q, self.dtype, self.axis = q, dtype, axis
        self.scale = np.asarray(scale, dtype=np.float64)
        self.zero_point = np.asarray(zero_point, dtype=np.int64)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the integers (and of the tensor it stands for)."""
        return tuple(self.q.shape)

    @property
    def ndim(self) -> int:
        """The number of dims."""
        return self.q.ndim

    def qscheme(self) -> str:
        """The scheme: "per_tensor_affine" or "per_channel_affine" (PyTorch's names)."""
        return "per_tensor_affine" if self.axis is None else "per_channel_affine"

    def int_repr(self) -> Tensor:
        """The integers q as a Tensor (uint8 for quint8, int8 for qint8, int32 for qint32)."""
        return Tensor._wrap(self.q)

    def q_scale(self) -> float:
        """The scale s (per-tensor quantization)."""
        self._per_tensor("q_scale")
        return float(self.scale)

    def q_zero_point(self) -> int:
        """The zero point z (per-tensor quantization)."""
        self._per_tensor("q_zero_point")
        return int(self.zero_point)

    def q_per_channel_scales(self) -> Tensor:
        """The scales, one per slice along q_per_channel_axis()."""
        return Tensor._wrap(self.scale.copy())

    def q_per_channel_zero_points(self) -> Tensor:
        """The zero points, one per slice along q_per_channel_axis()."""
        return Tensor._wrap(self.zero_point.copy())

    def q_per_channel_axis(self) -> int:
        """The dim whose slices each have their own scale and zero point."""
        if self.axis is None:
            raise RuntimeError("q_per_channel_axis: this tensor is quantized per tensor (use q_scale/q_zero_point)")
        return self.axis

    def _per_tensor(self, what: str) -> None:
        if self.axis is not None:
            raise RuntimeError(f"{what}: this tensor is quantized per channel (use q_per_channel_scales() etc.)")

    def _broadcast(self, values: np.ndarray) -> np.ndarray:
        if self.axis is None:
            return values
        shape = [1] * self.q.ndim
        shape[self.axis] = -1
        return values.reshape(shape)

    def dequantize(self) -> Tensor:
        """x̂ = s · (q − z) as float32."""
        s = self._broadcast(self.scale.astype(np.float32))
        z = self._broadcast(self.zero_point.astype(np.float32))
        return Tensor._wrap((self.q.astype(np.float32) - z) * s)

    def _reshaped(self, q: np.ndarray) -> QTensor:
        if self.axis is not None:
            raise RuntimeError("reshaping a per-channel quantized tensor would lose its channel axis")
        return QTensor(q, self.scale, self.zero_point, self.dtype)

    def reshape(self, *shape: Any) -> QTensor:
        """The same integers, scale and zero point in another shape (per tensor only)."""
        return self._reshaped(self.q.reshape(*shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> QTensor:
        """Dims start_dim..end_dim merged into one (what nn.Flatten calls)."""
        start, end = start_dim % self.q.ndim, end_dim % self.q.ndim
        shape = self.q.shape[:start] + (-1,) + self.q.shape[end + 1 :]
        return self._reshaped(self.q.reshape(shape))

    def size(self, dim: int | None = None) -> Any:
        """The shape, or its length along ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"'QTensor' (a quantized tensor) has no attribute '{name}': a float operation got a quantized "
            "input. Dequantize first (x.dequantize(), or a DeQuantStub before that layer), or use a "
            "quantized layer (quantization.convert swaps Linear, Conv2d, ReLU and MaxPool2d)."
        )

    def __repr__(self) -> str:
        params = (
            f"scale={self.q_scale():.6g}, zero_point={self.q_zero_point()}"
            if self.axis is None
            else f"scales={np.round(self.scale, 6).tolist()}, zero_points={self.zero_point.tolist()}, axis={self.axis}"
        )
        return f"QTensor({self.q.tolist()}, dtype={self.dtype.name}, {params})"


def quantize_per_tensor(input: Any, scale: float, zero_point: int, dtype: Any) -> QTensor:
    """q = clamp(round(x / s) + z, qmin, qmax) with one scale s and zero point z for every entry.

    ``quantize_per_tensor(x, 0.1, 128, quint8)``: steps of 0.1, the real 0 at the integer 128,
    so the range is [−12.8, 12.7]. Same arguments and integers as torch.quantize_per_tensor.
    """
    dtype = as_qdtype(dtype)
    if not scale > 0:
        raise ValueError(f"quantize_per_tensor: scale must be positive, got {scale}")
    if not dtype.qmin <= zero_point <= dtype.qmax:
        raise ValueError(f"quantize_per_tensor: zero_point {zero_point} is outside {dtype.name}'s range")
    s, z = np.asarray(scale, np.float64), np.asarray(zero_point, np.int64)
    return QTensor(_quantize(_values(input), s, z, dtype), s, z, dtype)


def quantize_per_channel(input: Any, scales: Any, zero_points: Any, axis: int, dtype: Any) -> QTensor:
    """q[..., c, ...] = clamp(round(x[..., c, ...] / s_c) + z_c, qmin, qmax): one (s, z) per slice along ``axis``.

    For weights: ``axis=0`` gives every output channel (row of a Linear, filter of a Conv2d)
    its own scale, so one channel of large weights does not coarsen the steps of all the others.
    """
    dtype = as_qdtype(dtype)
    x = _values(input)
    axis = axis % x.ndim
    s = _values(scales).astype(np.float64).reshape(-1)
    z = _values(zero_points).astype(np.int64).reshape(-1)
    if s.size != x.shape[axis] or z.size != x.shape[axis]:
        raise ValueError(
            f"quantize_per_channel: {s.size} scales and {z.size} zero points for {x.shape[axis]} channels "
            f"along axis {axis} of a tensor of shape {x.shape}"
        )
    if not np.all(s > 0):
        raise ValueError("quantize_per_channel: every scale must be positive")
    shape = [1] * x.ndim
    shape[axis] = -1
    return QTensor(_quantize(x, s.reshape(shape), z.reshape(shape), dtype), s, z, dtype, axis)


def dequantize(q: QTensor) -> Tensor:
    """x̂ = s · (q − z) as a float32 Tensor (per channel: each slice with its own s and z)."""
    if not isinstance(q, QTensor):
        raise TypeError(f"dequantize: needs a QTensor (from quantize_per_tensor), got {type(q).__name__}")
    return q.dequantize()
