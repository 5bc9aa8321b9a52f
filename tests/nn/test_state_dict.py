"""State dicts: PyTorch's key names, round trips, and load errors that name every offending key."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.nn.helpers import TORCH_KEYS, Net
from tinygrad_edu import nn


def test_state_dict_keys_are_pytorchs():
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.bn = torch.nn.BatchNorm1d(8)
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(8, 8), torch.nn.Dropout(0.5)])
            self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(8, 3))
            self.register_buffer("scale", torch.ones(3))
            self.register_buffer("cache", torch.zeros(2), persistent=False)

    theirs = TorchNet()
    assert list(theirs.state_dict()) == TORCH_KEYS
    net = Net()
    assert list(net.state_dict()) == TORCH_KEYS
    net.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[k].numpy(), v.numpy())
    assert net.bn.num_batches_tracked.dtype == np.int64


def test_state_dict_values_are_detached_and_share_storage():
    net = Net()
    sd = net.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    assert sd["fc1.weight"].array is net.fc1.weight.array
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_round_trip_through_numpy_arrays_and_tensors():
    tge.manual_seed(1)
    a = Net()
    a(tge.randn(4, 4))  # moves the running statistics away from their start
    tge.manual_seed(2)
    b = Net()
    snapshot = {k: v.numpy().copy() for k, v in a.state_dict().items()}
    result = b.load_state_dict(snapshot)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snapshot[k])
    c = Net()
    c.load_state_dict(a.state_dict())  # Tensors work too
    a.eval(), c.eval()
    x = tge.randn(3, 4)
    np.testing.assert_array_equal(a(x).numpy(), c(x).numpy())
    # loading copies: b does not change when a trains on
    with tge.no_grad():
        a.fc1.weight.add_(1.0)
    np.testing.assert_array_equal(b.fc1.weight.numpy(), snapshot["fc1.weight"])


def test_load_state_dict_names_every_bad_key_and_both_shapes():
    net = Net()
    sd = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    del sd["fc1.bias"], sd["bn.running_var"]
    sd["fc2.weight"] = np.zeros(3)
    sd["extra"] = 1.0
    sd["fc1.weight"] = np.zeros((4, 8), dtype=np.float32)
    sd["head.1.bias"] = np.zeros(5, dtype=np.float32)
    before = net.fc1.weight.numpy().copy()
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    for key in ("fc1.bias", "bn.running_var", "fc2.weight", "extra", "fc1.weight", "head.1.bias"):
        assert f"{key}" in msg, key
    assert "Missing key(s)" in msg and "Unexpected key(s)" in msg
    assert "shape (4, 8) from checkpoint, the shape in current model is (8, 4)" in msg
    assert "shape (5,) from checkpoint, the shape in current model is (3,)" in msg
    np.testing.assert_array_equal(net.fc1.weight.numpy(), before)  # nothing was copied


def test_load_state_dict_not_strict_reports_but_loads_what_fits():
    net = Net()
    sd = {"fc1.weight": np.ones((8, 4)), "unknown": np.zeros(1)}
    result = net.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["unknown"]
    assert "fc1.bias" in result.missing_keys
    assert net.fc1.weight.dtype == np.float32 and np.all(net.fc1.weight.numpy() == 1)  # cast to the param's dtype
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        net.load_state_dict({"fc1.weight": np.ones(3)}, strict=False)


def test_deepcopy_gives_an_independent_model():
    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.fc1.weight, nn.Parameter)
    with tge.no_grad():
        twin.fc1.weight.fill_(0.0)
    assert net.fc1.weight.numpy().any()
    assert list(twin.state_dict()) == TORCH_KEYS


def test_a_trained_torch_cnn_loads_and_gives_the_same_predictions():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 4, 3, padding=1),
            lib.nn.BatchNorm2d(4),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Flatten(),
            lib.nn.Dropout(0.2),
            lib.nn.Linear(4 * 4 * 4, 3),
        )

    theirs = build(torch)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for step in range(3):  # move the weights and the running statistics away from their start
        x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(step))
        loss = torch.nn.functional.cross_entropy(theirs(x), torch.arange(8) % 3)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ours = build(tge)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert ours[1].num_batches_tracked.item() == 3
    theirs.eval(), ours.eval()
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)
