"""Eager-mode quantization, PyTorch's workflow: mark, prepare, calibrate (or train), convert.

Post-training quantization (PTQ)::

    qmodel = quantization.QuantWrapper(model).eval()   # QuantStub → model → DeQuantStub
    qmodel.qconfig = quantization.get_default_qconfig()  # observers: activations quint8, weights qint8
    quantization.prepare(qmodel, inplace=True)          # observers hooked onto the layers' outputs
    for x, _ in calibration_batches: qmodel(x)          # they record the ranges
    quantization.convert(qmodel, inplace=True)          # Linear → quantized.Linear, ... (int8 inside)

Quantization-aware training (QAT): ``prepare_qat`` swaps Linear/Conv2d for qat versions whose
weights are fake-quantized and puts FakeQuantize modules where PTQ puts observers; train as usual,
then ``convert``. The float model is left untouched unless ``inplace=True``.

``prepare`` attaches an observer to the output of every QuantStub, Linear and Conv2d (it is the
layer's child ``activation_post_process``, called by a forward hook, so it is in the state dict
as in PyTorch). ReLU, MaxPool2d, Flatten and Dropout need none: they keep their input's scale.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from typing import Any

from .. import nn
from ..nn.module import Module
from ..tensor import Tensor
from . import quantized
from .fake_quantize import FakeQuantize
from .observer import MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver
from .qtensor import qint8, quint8

QConfig = namedtuple("QConfig", ["activation", "weight"])
QConfig.__doc__ = "How to observe a layer: factories (``Observer.with_args(...)``) for its activations and weights."


def get_default_qconfig(per_channel: bool = False) -> QConfig:
    """Activations: MinMaxObserver quint8 affine; weights: qint8 symmetric, per tensor or per output channel."""
    weight = (
        PerChannelMinMaxObserver.with_args(dtype=qint8, qscheme="per_channel_symmetric")
        if per_channel
        else MinMaxObserver.with_args(dtype=qint8, qscheme="per_tensor_symmetric")
    )
    return QConfig(activation=MinMaxObserver.with_args(dtype=quint8), weight=weight)


def get_default_qat_qconfig(per_channel: bool = False) -> QConfig:
    """FakeQuantize with moving-average observers for activations (quint8) and weights (qint8 symmetric)."""
    if per_channel:
        weight = FakeQuantize.with_args(
            observer=PerChannelMinMaxObserver, dtype=qint8, qscheme="per_channel_symmetric", ch_axis=0
        )
    else:
        weight = FakeQuantize.with_args(
            observer=MovingAverageMinMaxObserver, dtype=qint8, qscheme="per_tensor_symmetric"
        )
    return QConfig(activation=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, dtype=quint8), weight=weight)


default_qconfig = get_default_qconfig()
default_per_channel_qconfig = get_default_qconfig(per_channel=True)
default_qat_qconfig = get_default_qat_qconfig()


class QuantStub(Module):
    """Marks where float becomes quantized: the identity until ``convert`` makes it a quantized.Quantize."""

    def forward(self, x: Tensor) -> Tensor:
        """x unchanged (its observer, once prepared, records x's range)."""
        return x


class DeQuantStub(Module):
    """Marks where quantized becomes float again: becomes a quantized.DeQuantize."""

    def forward(self, x: Any) -> Any:
        """x unchanged (a QTensor after convert is dequantized)."""
        return x


class QuantWrapper(Module):
    """quant → module → dequant: a float model with the two stubs around it, ready to prepare."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self.quant, self.module, self.dequant = QuantStub(), module, DeQuantStub()
        if hasattr(module, "qconfig"):
            self.qconfig = module.qconfig

    def forward(self, x: Tensor) -> Any:
        """dequant(module(quant(x)))."""
        return self.dequant(self.module(self.quant(x)))


class QATLinear(nn.Linear):
    """A Linear whose weight is fake-quantized in forward (``weight_fake_quant``): y = x · fq(W)ᵀ + b."""

    @classmethod
    def from_float(cls, module: nn.Linear, qconfig: QConfig) -> QATLinear:
        """The QAT twin of ``module``, sharing its Parameters."""
        qat = cls(module.in_features, module.out_features, bias=module.bias is not None)
        qat.weight, qat.bias = module.weight, module.bias
        qat.qconfig = qconfig
        qat.weight_fake_quant = qconfig.weight()
        return qat

    def forward(self, input: Tensor) -> Tensor:
        """F.linear with the fake-quantized weight."""
        return nn.functional.linear(input, self.weight_fake_quant(self.weight), self.bias)


class QATConv2d(nn.Conv2d):
    """A Conv2d whose weight is fake-quantized in forward (``weight_fake_quant``)."""

    @classmethod
    def from_float(cls, module: nn.Conv2d, qconfig: QConfig) -> QATConv2d:
        """The QAT twin of ``module``, sharing its Parameters."""
        qat = cls(
            module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
            padding=module.padding, dilation=module.dilation, groups=module.groups,
            bias=module.bias is not None, padding_mode=module.padding_mode,
        )  # fmt: skip
        qat.weight, qat.bias = module.weight, module.bias
        qat.qconfig = qconfig
        qat.weight_fake_quant = qconfig.weight()
        return qat

    def forward(self, input: Tensor) -> Tensor:
        """F.conv2d with the fake-quantized weight."""
        return nn.functional.conv2d(
            input, self.weight_fake_quant(self.weight), self.bias, self.stride, self._padding, self.dilation,
            self.groups,
        )  # fmt: skip


_OBSERVED = (QuantStub, nn.Linear, nn.Conv2d)  # the layers whose outputs get an observer


def _observe(module: Module, args: tuple, output: Any) -> Any:
    """The forward hook of an observed layer: its observer sees (and, for FakeQuantize, changes) the output."""
    return module.activation_post_process(output)


def _propagate_qconfig(module: Module, qconfig: Any) -> None:
    own = module.__dict__.get("qconfig", qconfig)
    if own is not None:
        module.qconfig = own
    for child in module.children():
        _propagate_qconfig(child, own)


def _attach_observers(model: Module) -> None:
    for m in list(model.modules()):
        observed = isinstance(m, _OBSERVED) and "activation_post_process" not in m._modules
        if observed and getattr(m, "qconfig", None) is not None:
            m.activation_post_process = m.qconfig.activation()
            m.register_forward_hook(_observe)


def prepare(model: Module, inplace: bool = False) -> Module:
    """Attach an observer (``qconfig.activation()``) to each QuantStub, Linear and Conv2d output; returns the model.

    The qconfig of each layer is its own ``qconfig`` attribute or its parent's (set it on the
    root; without any, the default qconfig is used).
    """
    model = model if inplace else copy.deepcopy(model)
    _propagate_qconfig(model, model.__dict__.get("qconfig", default_qconfig))
    _attach_observers(model)
    return model


def prepare_qat(model: Module, inplace: bool = False) -> Module:
    """Swap Linear/Conv2d for QAT versions (fake-quantized weights), attach FakeQuantize to outputs; train mode."""
    model = model if inplace else copy.deepcopy(model)
    _propagate_qconfig(model, model.__dict__.get("qconfig", default_qat_qconfig))
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            qconfig = getattr(child, "qconfig", None)
            if qconfig is None or type(child) not in (nn.Linear, nn.Conv2d):
                continue
            parent._modules[name] = (QATLinear if type(child) is nn.Linear else QATConv2d).from_float(child, qconfig)
    _attach_observers(model)
    return model.train()


def _weight_observer(module: Module) -> Any:
    fake_quant = module._modules.get("weight_fake_quant")
    if fake_quant is not None:  # QAT: the weight's range as training left it
        return fake_quant.activation_post_process
    return module.qconfig.weight()  # PTQ: a fresh observer, which sees the weight once


def _swap(module: Module) -> Module | None:
    """The quantized replacement of one layer, or None to keep it."""
    if isinstance(module, QuantStub):
        scale, zero_point = _observer_of(module).calculate_qparams()
        return quantized.Quantize(float(scale.item()), int(zero_point.item()))
    if isinstance(module, DeQuantStub):
        return quantized.DeQuantize()
    if isinstance(module, nn.Linear) and "activation_post_process" in module._modules:
        return quantized.Linear.from_float(module, _weight_observer(module), _observer_of(module))
    if isinstance(module, nn.Conv2d) and "activation_post_process" in module._modules:
        return quantized.Conv2d.from_float(module, _weight_observer(module), _observer_of(module))
    if type(module) is nn.ReLU:
        return quantized.ReLU()
    if type(module) is nn.MaxPool2d:
        return quantized.MaxPool2d(module.kernel_size, module.stride, module.padding)
    return None


def _observer_of(module: Module) -> Any:
    observer = module._modules.get("activation_post_process")
    if observer is None:
        raise RuntimeError(f"convert: {type(module).__name__} has no observer: call quantization.prepare first")
    return observer


def convert(model: Module, inplace: bool = False) -> Module:
    """Replace the observed layers by quantized ones (QuantStub → Quantize, Linear → quantized.Linear, ...).

    Uses the ranges the observers (or FakeQuantize modules) recorded; the result runs in eval mode.
    """
    model = model if inplace else copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if child is None or name in ("activation_post_process", "weight_fake_quant"):
                continue
            new = _swap(child)
            if new is not None:
                parent._modules[name] = new
    return model.eval()
