"""Quantized layers: the integer arithmetic written out, the float model's outputs, PTQ and QAT end to end."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import kernels, nn
from tinygrad_edu import quantization as tq


def _qlinear(per_channel=False, seed=0):
    tge.manual_seed(seed)
    lin = nn.Linear(20, 7)
    observer = tq.get_default_qconfig(per_channel).weight()
    out = tq.MinMaxObserver()
    x = tge.randn(9, 20)
    out(lin(x))
    return lin, tq.quantized.Linear.from_float(lin, observer, out), x


@pytest.mark.parametrize("per_channel", [False, True])
def test_linear_integers_are_the_requantization_formula(per_channel):
    lin, qlin, x = _qlinear(per_channel)
    qx = tq.quantize_per_tensor(x, 0.02, 120, tq.quint8)
    qy = qlin(qx)
    # q_y = clamp(round(M (Σ (q_x − z_x) q_w + q_b)) + z_y, 0, 255) in float64, written out independently
    w = qlin.weight.numpy().astype(np.int64)
    s_w = qlin.weight_scale.numpy().astype(np.float64)
    acc = (qx.int_repr().numpy().astype(np.int64) - 120) @ w.T + np.rint(lin.bias.numpy() / (0.02 * s_w))
    want = np.clip(np.rint(acc * 0.02 * s_w / float(qlin.scale.numpy())) + int(qlin.zero_point.numpy()), 0, 255)
    np.testing.assert_array_equal(qy.int_repr().numpy(), want)
    # and it is close to the float layer: within a few output steps
    err = np.abs(qy.dequantize().numpy() - lin(qx.dequantize()).numpy())
    assert err.max() <= 3 * float(qlin.scale.numpy())


def test_linear_is_the_same_with_every_kernel_backend():
    _, qlin, x = _qlinear()
    qx = tq.quantize_per_tensor(x, 0.02, 120, tq.quint8)
    want = qlin(qx).int_repr().numpy()
    pytest.importorskip("numba")
    with kernels.use("numba"):
        np.testing.assert_array_equal(qlin(qx).int_repr().numpy(), want)


def test_conv2d_matches_the_float_conv_on_dequantized_values():
    tge.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = tge.randn(2, 3, 9, 9)
    out = tq.MinMaxObserver()
    out(conv(x))
    qconv = tq.quantized.Conv2d.from_float(conv, tq.default_per_channel_qconfig.weight(), out)
    qx = tq.quantize_per_tensor(x, 0.03, 128, tq.quint8)
    qy = qconv(qx)
    assert qy.shape == (2, 5, 5, 5)
    err = np.abs(qy.dequantize().numpy() - conv(qx.dequantize()).numpy())
    assert err.max() <= 3 * float(qconv.scale.numpy())  # padding with z_x is the real 0


def test_relu_and_maxpool_work_on_the_integers():
    qx = tq.quantize_per_tensor(tge.randn(1, 2, 4, 4), 0.05, 100, tq.quint8)
    relu = tq.quantized.ReLU()(qx)
    np.testing.assert_allclose(relu.dequantize().numpy(), np.maximum(qx.dequantize().numpy(), 0))
    pooled = tq.quantized.MaxPool2d(2)(qx)
    want = nn.functional.max_pool2d(qx.dequantize(), 2).numpy()
    np.testing.assert_allclose(pooled.dequantize().numpy(), want)


def _digits_like(seed=0, n=256):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((4, 16)).astype(np.float32) * 2
    y = rng.integers(0, 4, n)
    x = centers[y] + rng.standard_normal((n, 16)).astype(np.float32) * 0.5
    return tge.tensor(x), tge.tensor(y)


def _trained_mlp():
    tge.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 4))
    x, y = _digits_like()
    opt = tge.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y


def test_post_training_quantization_end_to_end():
    model, x, y = _trained_mlp()
    prepared = tq.prepare(tq.QuantWrapper(model).eval())
    assert "module.0.activation_post_process.min_val" in prepared.state_dict()
    assert "activation_post_process" not in model[0]._modules  # the float model is untouched
    prepared(x)  # calibration
    qmodel = tq.convert(prepared)
    assert isinstance(qmodel.module[0], tq.quantized.Linear) and isinstance(qmodel.module[1], tq.quantized.ReLU)
    assert qmodel.module[0].weight.dtype == np.int8
    logits, qlogits = model(x).numpy(), qmodel(x).numpy()
    assert (logits.argmax(1) == qlogits.argmax(1)).mean() > 0.97
    assert np.abs(logits - qlogits).max() < 0.1 * np.abs(logits).max()
    sd = qmodel.state_dict()
    assert sd["module.0.weight"].dtype == np.int8 and "module.0.scale" in sd


def test_convert_without_prepare_and_float_layers_after_quantized_ones_say_what_to_do():
    model, x, _ = _trained_mlp()
    with pytest.raises(RuntimeError, match="call quantization.prepare first"):
        tq.convert(tq.QuantWrapper(model)).module[0]  # the QuantStub has no observer
    prepared = tq.prepare(nn.Sequential(tq.QuantStub(), nn.Linear(16, 4), nn.Sigmoid()))
    prepared(x)
    bad = tq.convert(prepared)  # no DeQuantStub: Sigmoid gets a QTensor
    with pytest.raises((AttributeError, TypeError), match="Dequantize first|QTensor"):
        bad(x)
    with pytest.raises(TypeError, match="QuantStub"):
        tq.quantized.ReLU()(x)


def test_quantization_aware_training_end_to_end():
    model, x, y = _trained_mlp()
    qat = tq.prepare_qat(tq.QuantWrapper(model))
    assert isinstance(qat.module[0], tq.QATLinear) and qat.training
    opt = tge.optim.Adam(qat.parameters(), lr=1e-3)
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(qat(x), y).backward()
        assert qat.module[0].weight.grad is not None and np.abs(qat.module[0].weight.grad.numpy()).sum() > 0
        opt.step()
    qat.eval()
    fake = qat(x).numpy()
    qmodel = tq.convert(qat)
    real = qmodel(x).numpy()
    assert (fake.argmax(1) == real.argmax(1)).mean() > 0.97  # the fake-quantized model predicted the int8 one
    assert (real.argmax(1) == y.numpy()).mean() > 0.9
