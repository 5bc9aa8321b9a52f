"""Fake quantization for quantization-aware training (QAT): round to the int8 grid in forward, stay float.

    y = (clamp(round(x / s) + z, qmin, qmax) − z) · s

is what a quantized layer will see: x snapped to the nearest of the 256 representable values and
clipped to their range, but still a float, so training continues as usual. Its true derivative
is 0 almost everywhere (a staircase), which would stop all learning; the straight-through
estimator (STE, Bengio et al. 2013) passes the gradient through the staircase as if it were the
identity, except where x was clipped:

    dx = dy · 1[qmin ≤ round(x / s) + z ≤ qmax]

The network then learns weights that work well after rounding. The test is on the rounded
integer, as in PyTorch, so the two values at the very ends of the range count as inside; away
from those ends this is 1[qmin ≤ x/s + z ≤ qmax]. Numerically the STE is the derivative of the
clipped identity clamp(x, s(qmin − z), s(qmax − z)), which is what the tests compare it with
(the staircase itself has no useful derivative to check).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..nn.module import Module
from ..tensor import Tensor
from .observer import MovingAverageMinMaxObserver, _WithArgs
from .qtensor import as_qdtype, quint8


def _fake_quantize(x: np.ndarray, scale: Any, zero_point: Any, qmin: int, qmax: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, inside): the fake-quantized values and the mask of those not clipped (PyTorch's float32 arithmetic)."""
    inverse = np.float32(1.0) / np.asarray(scale, np.float32)
    z = np.asarray(zero_point, np.float32)
    q = np.rint(x.astype(np.float32) * inverse) + z
    inside = (q >= qmin) & (q <= qmax)
    y = (np.clip(q, qmin, qmax) - z) * np.asarray(scale, np.float32)
    return y.astype(x.dtype, copy=False), inside


class FakeQuantizePerTensorAffine(Function):
    """y = (clamp(round(x/s) + z, qmin, qmax) − z) · s      dx = dy · 1[qmin ≤ round(x/s) + z ≤ qmax]  (STE)"""

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax):  # noqa: D102 (the math is in the class docstring)
        y, inside = _fake_quantize(x, scale, zero_point, qmin, qmax)
        ctx.save_for_backward(inside)
        return y

    @staticmethod
    def backward(ctx, dy):  # noqa: D102
        (inside,) = ctx.saved_tensors
        return dy * inside, None, None, None, None


class FakeQuantizePerChannelAffine(Function):
    """y = (clamp(round(x/s_c) + z_c, qmin, qmax) − z_c) · s_c per slice c along axis    dx = dy · 1[inside]  (STE)"""

    @staticmethod
    def forward(ctx, x, scale, zero_point, axis, qmin, qmax):  # noqa: D102 (the math is in the class docstring)
        shape = [1] * x.ndim
        shape[axis] = -1
        s, z = np.asarray(scale).reshape(shape), np.asarray(zero_point).reshape(shape)
        y, inside = _fake_quantize(x, s, z, qmin, qmax)
        ctx.save_for_backward(inside)
        return y

    @staticmethod
    def backward(ctx, dy):  # noqa: D102
        (inside,) = ctx.saved_tensors
        return dy * inside, None, None, None, None, None


def _plain(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


def fake_quantize_per_tensor_affine(x: Tensor, scale: Any, zero_point: Any, quant_min: int, quant_max: int) -> Tensor:
    """(clamp(round(x/s) + z, qmin, qmax) − z) · s, with the straight-through gradient (torch's signature)."""
    return FakeQuantizePerTensorAffine.apply(x, _plain(scale), _plain(zero_point), quant_min, quant_max)


def fake_quantize_per_channel_affine(
    x: Tensor, scale: Any, zero_point: Any, axis: int, quant_min: int, quant_max: int
) -> Tensor:
    """Per channel along ``axis``: each slice with its own s and z; the straight-through gradient."""
    return FakeQuantizePerChannelAffine.apply(x, _plain(scale), _plain(zero_point), axis % x.ndim, quant_min, quant_max)


class FakeQuantize(Module, _WithArgs):
    """An observer and a fake quantizer in one Module (what QAT puts where PTQ puts observers).

    In forward it first lets its observer see x (``observer_enabled``), then returns x fake-
    quantized with the observer's current scale and zero point (``fake_quant_enabled``).
    ``convert`` later reads the final scale and zero point from it.
    """

    def __init__(self, observer: Any = MovingAverageMinMaxObserver, quant_min: int | None = None,
                 quant_max: int | None = None, **observer_kwargs: Any) -> None:  # fmt: skip
        super().__init__()
        dtype = as_qdtype(observer_kwargs.pop("dtype", quint8))
        self.activation_post_process = observer(dtype=dtype, quant_min=quant_min, quant_max=quant_max,
                                                **observer_kwargs)  # fmt: skip
        self.dtype = dtype
        self.quant_min = self.activation_post_process.quant_min
        self.quant_max = self.activation_post_process.quant_max
        self.qscheme = self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, "ch_axis", None)
        self.observer_enabled, self.fake_quant_enabled = True, True

    def enable_observer(self, enabled: bool = True) -> FakeQuantize:
        """Keep (or stop) updating the range; PyTorch freezes it for the last epochs of QAT."""
        self.observer_enabled = enabled
        return self

    def disable_observer(self) -> FakeQuantize:
        """Freeze the range (and so scale and zero point)."""
        return self.enable_observer(False)

    def enable_fake_quant(self, enabled: bool = True) -> FakeQuantize:
        """Fake-quantize in forward (or pass x through unchanged)."""
        self.fake_quant_enabled = enabled
        return self

    def disable_fake_quant(self) -> FakeQuantize:
        """Pass x through unchanged."""
        return self.enable_fake_quant(False)

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scale, zero_point) from the observer."""
        return self.activation_post_process.calculate_qparams()

    def forward(self, x: Tensor) -> Tensor:
        """Observe x, then fake-quantize it with the current scale and zero point."""
        if self.observer_enabled:
            self.activation_post_process(x.detach())
        if not self.fake_quant_enabled:
            return x
        scale, zero_point = self.calculate_qparams()
        if self.ch_axis is not None:
            return fake_quantize_per_channel_affine(x, scale, zero_point, self.ch_axis, self.quant_min, self.quant_max)
        return fake_quantize_per_tensor_affine(x, scale, zero_point, self.quant_min, self.quant_max)
