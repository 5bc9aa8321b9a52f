"""The ready-made models: shapes, parameter counts, gradients, and agreement with the same models in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn
from tinygrad_edu.models import MLP, LeNet, LogisticRegression, SmallCNN, build_model

# (model, one input batch shape, logits shape, parameter count worked out by hand in the docstrings)
CASES = [
    (lambda: MLP(64, (128,), 10), (5, 64), (5, 10), 9_610),
    (lambda: MLP(1000, (500,), 10), (3, 1000), (3, 10), 505_510),
    (lambda: MLP(12, (8, 6), 3, activation="tanh"), (4, 12), (4, 3), 12 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3),
    (lambda: MLP(64, (16,), 10), (2, 1, 8, 8), (2, 10), 64 * 16 + 16 + 16 * 10 + 10),  # images are flattened
    (lambda: LeNet(3, 10, 32), (2, 3, 32, 32), (2, 10), 62_006),
    (lambda: LeNet(1, 10, 28), (2, 1, 28, 28), (2, 10), 61_706),
    (lambda: LeNet(1, 7, (12, 20)), (2, 1, 12, 20), (2, 7), None),
    (lambda: SmallCNN(1, 10, 8), (3, 1, 8, 8), (3, 10), 6_090),
    (lambda: SmallCNN(3, 5, (8, 12)), (2, 3, 8, 12), (2, 5), None),
    (lambda: LogisticRegression(64, 10), (4, 64), (4, 10), 650),
]


@pytest.mark.parametrize("make, x_shape, y_shape, count", CASES)
def test_forward_shape_parameter_count_and_backward(make, x_shape, y_shape, count):
    model = make()
    if count is not None:
        assert model.num_parameters() == count
    x = tge.randn(*x_shape)
    logits = model(x)
    assert logits.shape == y_shape and logits.dtype == np.float32
    target = tge.tensor(np.arange(y_shape[0]) % y_shape[1])
    nn.functional.cross_entropy(logits, target).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.isfinite(p.grad.numpy()).all(), name
    assert any(np.abs(p.grad.numpy()).sum() > 0 for p in model.parameters())


def test_lenet_gradient_matches_finite_differences():
    model = LeNet(1, 3, 12).to(dtype=tge.float64)
    x = tge.randn(2, 1, 12, 12, dtype=tge.float64, requires_grad=True)
    assert tge.gradcheck(lambda x: model(x).sum(), [x])


def test_state_dict_names_are_pytorch_style():
    names = ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]  # layers.1 is the ReLU
    assert list(MLP(4, (3,), 2).state_dict()) == names
    assert list(LeNet().state_dict())[:2] == ["conv1.weight", "conv1.bias"]
    assert list(LogisticRegression(4, 2).state_dict()) == ["linear.weight", "linear.bias"]


@pytest.mark.parametrize(
    "name, shape, expected",
    [
        ("mlp", (64,), MLP),
        ("mlp", (1, 8, 8), MLP),
        ("logreg", (30,), LogisticRegression),
        ("lenet", (1, 8, 8), SmallCNN),
        ("lenet", (1, 28, 28), LeNet),
        ("lenet", (3, 32, 32), LeNet),
    ],
)
def test_build_model_picks_by_name_and_shape(name, shape, expected):
    model = build_model(name, shape, 10)
    assert type(model) is expected
    assert model(tge.randn(2, *shape)).shape == (2, 10)


def test_build_model_errors_teach():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*mlp, lenet, logreg"):
        build_model("resnet", (64,), 10)
    with pytest.raises(ValueError, match=r"'lenet' needs images.*\(30,\).*'mlp' or 'logreg'"):
        build_model("lenet", (30,), 2)
    with pytest.raises(ValueError, match="too small"):
        LeNet(1, 10, 8)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP(4, (3,), 2, activation="swish")


# ---- the same models in PyTorch: same parameter names and counts, and, with the same weights, the same logits ----


def _torch_twin(name):
    torch = pytest.importorskip("torch")
    tnn, tF = torch.nn, torch.nn.functional

    class TorchMLP(tnn.Module):
        def __init__(self):
            super().__init__()
            self.layers = tnn.Sequential(tnn.Linear(1000, 500), tnn.ReLU(), tnn.Linear(500, 10))

        def forward(self, x):
            return self.layers(x.flatten(1))

    class TorchLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5, padding=2), tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = tnn.Linear(400, 120), tnn.Linear(120, 84), tnn.Linear(84, 10)

        def forward(self, x):
            x = tF.max_pool2d(tF.relu(self.conv1(x)), 2)
            x = tF.max_pool2d(tF.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(tF.relu(self.fc2(tF.relu(self.fc1(x)))))

    class TorchSmallCNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 16, 3, padding=1), tnn.Conv2d(16, 32, 3, padding=1)
            self.fc = tnn.Linear(128, 10)

        def forward(self, x):
            x = tF.max_pool2d(tF.relu(self.conv1(x)), 2)
            return self.fc(tF.max_pool2d(tF.relu(self.conv2(x)), 2).flatten(1))

    twins = {
        "mlp": (TorchMLP, lambda: MLP(1000, (500,), 10), (4, 1000)),
        "lenet": (TorchLeNet, lambda: LeNet(1, 10, 28), (4, 1, 28, 28)),
        "smallcnn": (TorchSmallCNN, lambda: SmallCNN(1, 10, 8), (4, 1, 8, 8)),
    }
    return torch, twins[name]


@pytest.mark.parametrize("name", ["mlp", "lenet", "smallcnn"])
def test_matches_pytorch(name):
    torch, (make_torch, make_ours, x_shape) = _torch_twin(name)
    torch.manual_seed(0)
    theirs, ours = make_torch(), make_ours()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert {k: v.shape for k, v in state.items()} == {k: p.shape for k, p in ours.named_parameters()}
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal(x_shape).astype(np.float32)
    np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
