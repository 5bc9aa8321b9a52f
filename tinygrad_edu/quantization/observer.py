"""Observers: watch the values flowing through a layer during calibration, then choose its scale and zero point.

An observer is a Module that returns its input unchanged and remembers the smallest and the
largest value it has seen (per tensor, or per channel along ``ch_axis``). From that range
[min, max], first widened to contain 0 (so the real 0 is exactly representable), it computes
PyTorch's quantization parameters:

    affine:     s = (max − min) / (qmax − qmin)          z = qmin − round(min / s), clamped to [qmin, qmax]
    symmetric:  s = max(|min|, max) / ((qmax − qmin) / 2)  z = 0 for qint8 (128 for quint8)

with s at least float32's eps. Affine uses the whole integer range for a one-sided range (ReLU
outputs); symmetric (weights) keeps z = 0, which makes the integer arithmetic of a quantized
layer simpler. ``reduce_range=True`` uses 7 bits (PyTorch's fbgemm default, where an int16
intermediate could saturate); our int8 GEMM sums exactly in int32, so the default here is False.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from .qtensor import QDtype, as_qdtype, qint8, quint8

EPS = np.float32(np.finfo(np.float32).eps)
_SCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric")


class _WithArgs:
    """``Observer.with_args(dtype=qint8)``: a factory that makes configured observers (for a QConfig)."""

    @classmethod
    def with_args(cls, **kwargs: Any) -> Any:
        """A function that returns ``cls(**kwargs)`` on every call: one fresh observer per layer."""
        factory = functools.partial(cls, **kwargs)
        factory.__name__ = f"{cls.__name__}.with_args"  # type: ignore[attr-defined]
        return factory


def calculate_qparams(
    min_val: np.ndarray, max_val: np.ndarray, dtype: QDtype, qscheme: str, qmin: int, qmax: int
) -> tuple[np.ndarray, np.ndarray]:
    """(scale, zero_point) for ranges [min_val, max_val] (arrays: one per channel, or 0-d), PyTorch's formulas."""
    min_neg = np.minimum(min_val, 0).astype(np.float32)
    max_pos = np.maximum(max_val, 0).astype(np.float32)
    if qscheme.endswith("symmetric"):
        max_pos = np.maximum(-min_neg, max_pos)
        scale = np.maximum(max_pos / np.float32((qmax - qmin) / 2), EPS)
        zero_point = np.full(scale.shape, (qmin + qmax + 1) // 2 if dtype is quint8 else 0, dtype=np.int64)
    else:
        scale = np.maximum((max_pos - min_neg) / np.float32(qmax - qmin), EPS)
        zero_point = np.clip(qmin - np.round(min_neg / scale).astype(np.int64), qmin, qmax)
    return scale.astype(np.float32), zero_point.astype(np.int64)


class ObserverBase(Module, _WithArgs):
    """What every observer shares: the dtype, the scheme, the integer range and calculate_qparams()."""

    def __init__(
        self, dtype: Any = quint8, qscheme: str = "per_tensor_affine", reduce_range: bool = False,
        quant_min: int | None = None, quant_max: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        if qscheme not in _SCHEMES:
            raise ValueError(f"{type(self).__name__}: qscheme {qscheme!r} is not one of {', '.join(_SCHEMES)}")
        self.dtype, self.qscheme, self.reduce_range = as_qdtype(dtype), qscheme, reduce_range
        qmin, qmax = self.dtype.qmin, self.dtype.qmax
        if reduce_range:
            qmin, qmax = qmin // 2, qmax // 2
        self.quant_min = qmin if quant_min is None else quant_min
        self.quant_max = qmax if quant_max is None else quant_max
        self.register_buffer("min_val", Tensor._wrap(np.array(np.inf, dtype=np.float32)))
        self.register_buffer("max_val", Tensor._wrap(np.array(-np.inf, dtype=np.float32)))

    def _update(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.min_val = Tensor._wrap(np.minimum(self.min_val.array, lo).astype(np.float32))
        self.max_val = Tensor._wrap(np.maximum(self.max_val.array, hi).astype(np.float32))

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scale, zero_point) for the range seen so far (see the module docstring for the formulas)."""
        if not np.all(np.isfinite(self.min_val.array)):
            raise RuntimeError(
                f"{type(self).__name__}.calculate_qparams: no values observed yet: run calibration batches "
                "through the prepared model first"
            )
        scale, zero_point = calculate_qparams(
            self.min_val.array, self.max_val.array, self.dtype, self.qscheme, self.quant_min, self.quant_max
        )
        return Tensor._wrap(scale), Tensor._wrap(zero_point)

    def extra_repr(self) -> str:
        """min_val and max_val seen so far."""
        return f"min_val={self.min_val.array.tolist()}, max_val={self.max_val.array.tolist()}"


class MinMaxObserver(ObserverBase):
    """Per tensor: min and max over every value seen. Default quint8, affine (activations).

    ``MinMaxObserver(dtype=qint8, qscheme="per_tensor_symmetric")`` is the weight observer.
    """

    def forward(self, x: Tensor) -> Tensor:
        """Remember min(x) and max(x); return x unchanged."""
        values = x.array
        if values.size:
            self._update(values.min(), values.max())
        return x


class MovingAverageMinMaxObserver(ObserverBase):
    """Per tensor, for training: min ← min + c·(min(x) − min) (the same for max), c = averaging_constant.

    A running average of the batch ranges, so one outlier batch during QAT does not stretch the
    range for good (the first batch sets it).
    """

    def __init__(self, averaging_constant: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x: Tensor) -> Tensor:
        """Move the remembered range towards this batch's; return x unchanged."""
        values = x.array
        if not values.size:
            return x
        lo, hi = np.float32(values.min()), np.float32(values.max())
        if np.isfinite(self.min_val.array):
            c = np.float32(self.averaging_constant)
            lo = self.min_val.array + c * (lo - self.min_val.array)
            hi = self.max_val.array + c * (hi - self.max_val.array)
        self.min_val = Tensor._wrap(np.asarray(lo, np.float32))
        self.max_val = Tensor._wrap(np.asarray(hi, np.float32))
        return x


class PerChannelMinMaxObserver(ObserverBase):
    """Per channel: a min and max for every slice along ``ch_axis`` (a weight's output channels: 0).

    Default qint8, per_channel_symmetric is the per-channel weight observer.
    """

    def __init__(self, ch_axis: int = 0, dtype: Any = qint8, qscheme: str = "per_channel_symmetric", **kw: Any) -> None:
        if not qscheme.startswith("per_channel"):
            raise ValueError(f"PerChannelMinMaxObserver: qscheme must be per_channel_..., got {qscheme!r}")
        super().__init__(dtype=dtype, qscheme=qscheme, **kw)
        self.ch_axis = ch_axis

    def forward(self, x: Tensor) -> Tensor:
        """Remember each channel's min and max; return x unchanged."""
        values = np.moveaxis(x.array, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        if values.size:
            self._update(values.min(axis=1), values.max(axis=1))
        return x
