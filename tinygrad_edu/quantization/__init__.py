"""Quantization: int8 instead of float32, 4× smaller, integer arithmetic (PyTorch's ``torch.ao.quantization``).

Table of contents:
    qtensor.py        the affine map x̂ = s(q − z), q = clamp(round(x/s) + z, qmin, qmax):
                      quantize_per_tensor, quantize_per_channel, dequantize, QTensor, quint8/qint8/qint32
    observer.py       MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver: ranges → (s, z)
    fake_quantize.py  FakeQuantize and the straight-through gradient, for quantization-aware training
    quantized.py      the quantized layers: Linear, Conv2d (int8 GEMM, int32 sums, requantization), ReLU, ...
    quantize.py       the workflow: QConfig, QuantStub/DeQuantStub/QuantWrapper, prepare, prepare_qat, convert

The int8 × int8 → int32 product is a kernel of the table (kernels.TABLE: ``matmul_int8``).
"""

from . import quantized  # noqa: E402  (after the names it uses)
from .fake_quantize import (
    FakeQuantize,
    FakeQuantizePerChannelAffine,
    FakeQuantizePerTensorAffine,
    fake_quantize_per_channel_affine,
    fake_quantize_per_tensor_affine,
)
from .observer import MinMaxObserver, MovingAverageMinMaxObserver, ObserverBase, PerChannelMinMaxObserver
from .qtensor import QDtype, QTensor, dequantize, qint8, qint32, quantize_per_channel, quantize_per_tensor, quint8
from .quantize import (
    DeQuantStub,
    QATConv2d,
    QATLinear,
    QConfig,
    QuantStub,
    QuantWrapper,
    convert,
    default_per_channel_qconfig,
    default_qat_qconfig,
    default_qconfig,
    get_default_qat_qconfig,
    get_default_qconfig,
    prepare,
    prepare_qat,
)

__all__ = [
    "QDtype", "QTensor", "quint8", "qint8", "qint32", "quantize_per_tensor", "quantize_per_channel", "dequantize",
    "ObserverBase", "MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
    "FakeQuantize", "FakeQuantizePerTensorAffine", "FakeQuantizePerChannelAffine",
    "fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine",
    "QConfig", "default_qconfig", "default_per_channel_qconfig", "default_qat_qconfig", "get_default_qconfig",
    "get_default_qat_qconfig", "QuantStub", "DeQuantStub", "QuantWrapper", "QATLinear", "QATConv2d",
    "prepare", "prepare_qat", "convert", "quantized",
]  # fmt: skip
