"""onnx.export: every supported layer checked by onnx.checker and run by onnxruntime (equal to ours within 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import tinygrad_edu.onnx as tox  # noqa: E402


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x.numpy()})[0]


def _image(n=3, c=2, side=8):
    return tge.randn(n, c, side, side)


def _trained_bn(bn, shape):
    bn.train()
    for _ in range(3):
        bn(tge.randn(*shape) * 2 + 1)
    return bn


CASES = {
    "linear": (lambda: nn.Linear(6, 4), lambda: tge.randn(5, 6)),
    "linear 3-D": (lambda: nn.Linear(6, 4, bias=False), lambda: tge.randn(2, 5, 6)),
    "conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), _image),
    "conv2d same dilated": (lambda: nn.Conv2d(2, 3, 3, padding="same", dilation=2), _image),
    "conv2d groups reflect": (lambda: nn.Conv2d(2, 4, 3, padding=1, groups=2, padding_mode="reflect"), _image),
    "maxpool": (lambda: nn.MaxPool2d(3, stride=2, padding=1), _image),
    "avgpool": (lambda: nn.AvgPool2d(2, padding=1), _image),
    "relu": (lambda: nn.ReLU(), lambda: tge.randn(4, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), lambda: tge.randn(4, 5)),
    "tanh": (lambda: nn.Tanh(), lambda: tge.randn(4, 5)),
    "gelu": (lambda: nn.GELU(), lambda: tge.randn(4, 5) * 3),
    "gelu tanh": (lambda: nn.GELU(approximate="tanh"), lambda: tge.randn(4, 5) * 3),
    "leaky relu": (lambda: nn.LeakyReLU(0.2), lambda: tge.randn(4, 5)),
    "softmax": (lambda: nn.Softmax(dim=-1), lambda: tge.randn(4, 5) * 4),
    "log softmax": (lambda: nn.LogSoftmax(dim=1), lambda: tge.randn(4, 5) * 4),
    "flatten": (lambda: nn.Flatten(), _image),
    "flatten middle": (lambda: nn.Flatten(1, 2), _image),
    "batchnorm1d": (lambda: _trained_bn(nn.BatchNorm1d(5), (8, 5)), lambda: tge.randn(4, 5)),
    "batchnorm2d": (lambda: _trained_bn(nn.BatchNorm2d(2), (4, 2, 8, 8)), _image),
    "dropout": (lambda: nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.5)), lambda: tge.randn(4, 5)),
    "layernorm": (lambda: nn.LayerNorm(5), lambda: tge.randn(3, 4, 5)),
    "layernorm 2 dims": (lambda: nn.LayerNorm((4, 5), elementwise_affine=False), lambda: tge.randn(3, 4, 5)),
    "embedding": (lambda: nn.Embedding(10, 4), lambda: tge.tensor(np.random.default_rng(0).integers(0, 10, (3, 6)))),
    "attention": (lambda: _SelfAttention(), lambda: tge.randn(2, 5, 8)),
    "encoder post-norm": (lambda: nn.TransformerEncoderLayer(8, 2, 16), lambda: tge.randn(5, 2, 8)),
    "encoder pre-norm gelu": (
        lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True, batch_first=True),
        lambda: tge.randn(2, 5, 8),
    ),
}


class _SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


@pytest.mark.parametrize("case", list(CASES))
def test_each_layer_runs_in_onnxruntime_like_ours(tmp_path, case):
    tge.manual_seed(0)
    make_model, make_input = CASES[case]
    model, x = make_model(), make_input()
    path = tmp_path / "model.onnx"
    proto = tox.export(model, x, path)
    onnx.checker.check_model(onnx.load(str(path)))
    assert proto.graph.input[0].name == "input" and proto.graph.output[0].name == "output"
    ours = model.eval()(x).numpy()
    np.testing.assert_allclose(_run(path, x), ours, rtol=1e-5, atol=1e-5)


def test_a_whole_cnn_with_a_dynamic_batch(tmp_path):
    tge.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 10),
    )  # fmt: skip
    model.train()
    model(tge.randn(16, 1, 8, 8))  # BatchNorm's running statistics move away from 0 and 1
    path = tmp_path / "cnn.onnx"
    tox.export(model, tge.randn(2, 1, 8, 8), path, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    assert model.training  # the model's mode is restored
    model.eval()
    for n in (1, 7):
        x = tge.randn(n, 1, 8, 8)
        np.testing.assert_allclose(_run(path, x), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_custom_modules_are_followed_into():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.body(x))

    proto = tox.export(Net(), tge.randn(3, 4))
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Tanh", "Gemm", "Identity"]


def test_unsupported_layer_is_named_and_no_file_is_left(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.RNN(4, 4))
    path = tmp_path / "bad.onnx"
    with pytest.raises(tox.UnsupportedLayerError, match=r"'1' \(RNN\) has no ONNX translation"):
        tox.export(model, tge.randn(3, 4), path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    assert not model[0]._forward_hooks  # the tracing hooks are gone


def test_operations_between_layers_are_named():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 4), nn.Linear(4, 2)

        def forward(self, x):
            return self.fc2(nn.functional.relu(self.fc1(x)))

    with pytest.raises(tox.UnsupportedLayerError, match=r"input of layer 'fc2' \(Linear\) was computed outside"):
        tox.export(Functional(), tge.randn(3, 4))

    class Doubled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x) * 2

    with pytest.raises(tox.UnsupportedLayerError, match="output was computed outside a layer"):
        tox.export(Doubled(), tge.randn(3, 4))
    with pytest.raises(TypeError, match="must be a Tensor"):
        tox.export(nn.Linear(2, 2), np.ones((2, 2)))
