"""Quantized layers: int8 weights, uint8 activations, int32 sums, then requantization to uint8.

A quantized Linear computes y = x Wᵀ + b with x̂ = s_x(q_x − z_x) and Ŵ = s_w q_w (symmetric
weights, z_w = 0; per channel s_w is one scale per output row):

    y_j = s_x s_w,j · Σₖ (q_x,k − z_x) q_w,jk  +  b_j
        = s_x s_w,j · (acc_j − z_x Σₖ q_w,jk + q_b,j)      acc = q_x @ q_wᵀ   (int8 GEMM, exact int32)

with the bias quantized to int32 on the product scale, q_b = round(b / (s_x s_w)). The output
is stored as uint8 again with the scale s_y and zero point z_y its observer chose:

    q_y = clamp(round(M_j · (acc_j − z_x Σₖ q_w,jk + q_b,j)) + z_y, 0, 255),   M_j = s_x s_w,j / s_y

That last step is the *requantization*. Integer-only hardware writes M = M₀ · 2⁻ⁿ with an int32
M₀ and does it with one integer multiply and a shift (Jacob et al., 2018); here M is a float64,
which gives the same integers except for rare ties. Σₖ q_w,jk is computed once, at conversion.
Conv2d is the same product on im2col columns (padding with z_x, which stands for the real 0).

Made from float modules by ``quantization.convert``; each takes and returns a QTensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..kernels import numpy_ref
from ..nn.module import Module
from ..tensor import Tensor
from .qtensor import QTensor, _quantize, as_qdtype, qint8, quantize_per_channel, quantize_per_tensor, quint8


def _int8_gemm(a: np.ndarray, b: np.ndarray, op: str) -> np.ndarray:
    """a (M, K) uint8 @ b (K, N) int8 → int32 with the current kernel backend's matmul_int8 (CPU)."""
    return kernels.for_device("cpu", op).matmul_int8(np.ascontiguousarray(a), b)


def _qtensor_input(x: Any, op: str) -> QTensor:
    if not isinstance(x, QTensor):
        raise TypeError(
            f"{op}: expects a QTensor (quantized input), got {type(x).__name__}: put a QuantStub (or "
            "quantization.QuantWrapper) in front of the first quantized layer"
        )
    if x.axis is not None or x.dtype is not quint8:
        raise TypeError(f"{op}: expects a per-tensor quint8 input, got {x.dtype.name} {x.qscheme()}")
    return x


def _quantize_weight(w: np.ndarray, observer: Any) -> QTensor:
    """The weight quantized with the scale and zero point its observer computes (it sees w unless it saw one)."""
    if not np.all(np.isfinite(observer.min_val.array)):
        observer(Tensor._wrap(w))
    scale, zero_point = observer.calculate_qparams()
    if getattr(observer, "ch_axis", None) is not None:
        return quantize_per_channel(w, scale, zero_point, observer.ch_axis, observer.dtype)
    return quantize_per_tensor(w, float(scale.item()), int(zero_point.item()), observer.dtype)


class _QuantizedProduct(Module):
    """What quantized Linear and Conv2d share: the int8 weight, the int32 bias and the requantization."""

    def _set_weight(self, w: QTensor, bias: np.ndarray | None, scale: float, zero_point: int) -> None:
        if w.dtype is not qint8 or not np.all(w.zero_point == 0):
            raise ValueError(f"{type(self).__name__}: weights must be qint8 with zero point 0 (a symmetric qscheme)")
        self.register_buffer("weight", Tensor._wrap(w.q))
        self.register_buffer("weight_scale", Tensor._wrap(np.atleast_1d(w.scale).astype(np.float32)))
        self.register_buffer("bias", None if bias is None else Tensor._wrap(np.asarray(bias, np.float32)))
        self.register_buffer("scale", Tensor._wrap(np.array(scale, np.float32)))
        self.register_buffer("zero_point", Tensor._wrap(np.array(zero_point, np.int64)))
        self.weight_axis = w.axis

    def qweight(self) -> QTensor:
        """The weight as a QTensor (PyTorch's ``weight()``)."""
        scale = self.weight_scale.array if self.weight_axis is not None else self.weight_scale.array[0]
        zeros = np.zeros_like(self.weight_scale.array, dtype=np.int64)
        return QTensor(self.weight.array, scale, zeros if self.weight_axis is not None else 0, qint8, self.weight_axis)

    def _requantize(self, acc: np.ndarray, x: QTensor, weight_rows: np.ndarray) -> np.ndarray:
        """q_y from the int32 sums acc (…, out): subtract z_x Σ q_w, add q_b, scale by M, round, add z_y."""
        s_w = self.weight_scale.array.astype(np.float64)  # (1,) or (out,)
        product_scale = float(x.scale) * s_w
        acc = acc - np.int32(x.zero_point) * weight_rows.sum(axis=1, dtype=np.int32)
        if self.bias is not None:
            acc = acc + np.rint(self.bias.array / product_scale).astype(np.int32)  # q_b in int32
        multiplier = product_scale / float(self.scale.array)  # M = s_x s_w / s_y
        q = np.rint(acc * multiplier) + int(self.zero_point.array)
        return np.clip(q, 0, 255).astype(np.uint8)

    def _output(self, q: np.ndarray) -> QTensor:
        return QTensor(q, float(self.scale.array), int(self.zero_point.array), quint8)


class Linear(_QuantizedProduct):
    """y = x Wᵀ + b on quantized input and weights (see the module docstring for the integer arithmetic)."""

    def __init__(self, weight: QTensor, bias: np.ndarray | None, scale: float, zero_point: int) -> None:
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self._set_weight(weight, bias, scale, zero_point)

    @classmethod
    def from_float(cls, module: Any, weight_observer: Any, output_observer: Any) -> Linear:
        """The quantized twin of a float (or QAT) Linear, given its weight and output observers."""
        w = module.weight.array
        scale, zero_point = output_observer.calculate_qparams()
        bias = None if module.bias is None else module.bias.array
        return cls(_quantize_weight(w, weight_observer), bias, float(scale.item()), int(zero_point.item()))

    def forward(self, x: QTensor) -> QTensor:
        """q_y for q_x (…, in_features) → (…, out_features)."""
        x = _qtensor_input(x, "quantized.Linear")
        rows = x.q.reshape(-1, self.in_features)
        acc = _int8_gemm(rows, self.weight.array.T, "quantized.Linear")
        q = self._requantize(acc, x, self.weight.array)
        return self._output(q.reshape(x.shape[:-1] + (self.out_features,)))

    def extra_repr(self) -> str:
        """Sizes and the output's scale and zero point."""
        per = "per channel" if self.weight_axis is not None else "per tensor"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, scale={float(self.scale.array):.6g}, "
            f"zero_point={int(self.zero_point.array)}, weight=qint8 {per}"
        )


class Conv2d(_QuantizedProduct):
    """Cross-correlation on quantized input and weights: the int8 GEMM on im2col columns (groups = dilation = 1)."""

    def __init__(self, weight: QTensor, bias: np.ndarray | None, scale: float, zero_point: int,
                 stride: tuple[int, int], padding: tuple[int, int]) -> None:  # fmt: skip
        super().__init__()
        self.out_channels, self.in_channels = weight.shape[:2]
        self.kernel_size, self.stride, self.padding = tuple(weight.shape[2:]), tuple(stride), tuple(padding)
        self._set_weight(weight, bias, scale, zero_point)

    @classmethod
    def from_float(cls, module: Any, weight_observer: Any, output_observer: Any) -> Conv2d:
        """The quantized twin of a float (or QAT) Conv2d; only zero padding, groups=1 and dilation=1."""
        if module.groups != 1 or tuple(module.dilation) != (1, 1) or isinstance(module._padding, str):
            raise ValueError(
                "quantized.Conv2d: supports groups=1, dilation=1 and numeric padding; got "
                f"groups={module.groups}, dilation={module.dilation}, padding={module.padding!r}"
            )
        if module.padding_mode != "zeros":
            raise ValueError(f"quantized.Conv2d: supports padding_mode='zeros', got {module.padding_mode!r}")
        scale, zero_point = output_observer.calculate_qparams()
        w = _quantize_weight(module.weight.array, weight_observer)
        bias = None if module.bias is None else module.bias.array
        return cls(w, bias, float(scale.item()), int(zero_point.item()), module.stride, module._padding)

    def forward(self, x: QTensor) -> QTensor:
        """q_y (N, out_channels, OH, OW) for q_x (N, in_channels, H, W)."""
        x = _qtensor_input(x, "quantized.Conv2d")
        n = x.shape[0]
        x_pad = numpy_ref.pad(x.q, self.padding, value=int(x.zero_point))  # padding stands for the real 0
        cols = numpy_ref.im2col(x_pad, self.kernel_size, self.stride, (0, 0))  # (N, C, KH, KW, OH, OW)
        oh, ow = cols.shape[-2:]
        rows = cols.reshape(n, -1, oh * ow).transpose(0, 2, 1).reshape(n * oh * ow, -1)  # one row per pixel
        w = self.weight.array.reshape(self.out_channels, -1)
        acc = _int8_gemm(rows, w.T, "quantized.Conv2d")
        q = self._requantize(acc, x, w)  # (N·OH·OW, F)
        return self._output(np.ascontiguousarray(q.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)))

    def extra_repr(self) -> str:
        """Sizes and the output's scale and zero point."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, scale={float(self.scale.array):.6g}, zero_point={int(self.zero_point.array)}"
        )


class ReLU(Module):
    """max(x, 0) on quantized values: q_y = max(q_x, z_x), the same scale and zero point (exact)."""

    def forward(self, x: QTensor) -> QTensor:
        """q_y = max(q_x, z_x)."""
        x = _qtensor_input(x, "quantized.ReLU")
        return QTensor(np.maximum(x.q, np.uint8(int(x.zero_point))), x.scale, x.zero_point, x.dtype)


class MaxPool2d(Module):
    """Max pooling on the integers: s(q − z) grows with q, so the largest q is the largest value (exact)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        self.kernel_size = pair(kernel_size)
        self.stride = self.kernel_size if stride is None else pair(stride)
        self.padding = pair(padding)

    def forward(self, x: QTensor) -> QTensor:
        """The maximum integer of each window (padding never wins)."""
        x = _qtensor_input(x, "quantized.MaxPool2d")
        y, _ = numpy_ref.max_pool2d_forward(x.q.astype(np.float32), self.kernel_size, self.stride, self.padding)
        return QTensor(y.astype(np.uint8), x.scale, x.zero_point, x.dtype)


class Quantize(Module):
    """float Tensor → QTensor with a fixed scale and zero point (what a QuantStub becomes)."""

    def __init__(self, scale: float, zero_point: int, dtype: Any = quint8) -> None:
        super().__init__()
        self.register_buffer("scale", Tensor._wrap(np.array(scale, np.float32)))
        self.register_buffer("zero_point", Tensor._wrap(np.array(zero_point, np.int64)))
        self.dtype = as_qdtype(dtype)

    def forward(self, x: Tensor) -> QTensor:
        """q = clamp(round(x/s) + z, 0, 255)."""
        s, z = self.scale.array.astype(np.float64), self.zero_point.array
        return QTensor(_quantize(x.array, s, z, self.dtype), s, z, self.dtype)

    def extra_repr(self) -> str:
        """The scale and zero point."""
        return f"scale={float(self.scale.array):.6g}, zero_point={int(self.zero_point.array)}, dtype={self.dtype.name}"


class DeQuantize(Module):
    """QTensor → float32 Tensor: x̂ = s(q − z) (what a DeQuantStub becomes)."""

    def forward(self, x: QTensor) -> Tensor:
        """s · (q − z)."""
        return x.dequantize() if isinstance(x, QTensor) else x
