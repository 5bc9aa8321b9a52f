"""Module: registration, the tree walks, train/eval, zero_grad, devices, dtypes, containers, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.nn.helpers import Net
from tinygrad_edu import nn

# ---- registration and walking -----------------------------------------------------------------


def test_attributes_register_by_type():
    net = Net()
    assert list(net._modules) == ["fc1", "bn", "blocks", "head"]
    assert list(net._buffers) == ["scale", "cache"]
    assert "note" in net.__dict__ and net.note == "a plain attribute"
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "bn.weight",
        "bn.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "scale",
        "cache",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "blocks", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "fc1",
        "bn",
        "blocks",
        "blocks.0",
        "blocks.1",
        "head",
        "head.0",
        "head.1",
    ]
    assert net.num_parameters() == sum(p.numel() for p in net.parameters()) == 40 + 16 + 72 + 27


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


def test_bias_false_is_a_declared_absent_parameter():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]


def test_reassigning_and_deleting_attributes():
    net = Net()
    net.fc1 = nn.Linear(4, 8, bias=False)
    assert net.fc1.bias is None
    net.scale = tge.full((3,), 2.0)  # a buffer may be replaced by another tensor
    assert net.scale.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        net.fc1.weight = tge.zeros(8, 4)
    with pytest.raises(TypeError, match="child module 'bn'"):
        net.bn = 3
    del net.bn
    assert "bn" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing  # noqa: B018


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_missing_forward_is_explained():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(tge.zeros(1))


def test_parameter_wraps_data_and_prints_like_pytorch():
    t = tge.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.requires_grad and p.array is t.array  # shares storage, as in PyTorch
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(t, requires_grad=False).requires_grad


# ---- modes, gradients, apply ---------------------------------------------------------------------


def test_train_and_eval_propagate_to_every_descendant():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.eval()
    assert net.training and not net.head[1].training
    with pytest.raises(ValueError, match="True or False"):
        net.train("no")


def test_eval_changes_what_dropout_and_batchnorm_do():
    net = Net()
    x = tge.randn(6, 4)
    net.eval()
    a, b = net(x), net(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # deterministic in evaluation
    net.train()
    assert not np.array_equal(net(x).numpy(), net(x).numpy())  # dropout masks differ


def test_zero_grad_to_none_and_to_zeros():
    net = Net()
    net(tge.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes():
    net = Net()
    net.fc1.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == net.num_parameters() - 40
    net(tge.randn(3, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.head[1].weight.grad is not None


def test_apply_visits_children_first_then_self():
    seen = []
    net = Net()
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[-1] == "Net" and seen.index("Linear") < seen.index("ModuleList")

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(init_linear)
    assert not net.fc1.weight.numpy().any() and not net.head[1].weight.numpy().any()


# ---- devices and dtypes --------------------------------------------------------------------------


def test_double_and_float_keep_the_same_parameter_objects():
    net = Net()
    weight = net.fc1.weight
    assert net.double() is net
    assert net.fc1.weight is weight and weight.dtype == np.float64
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    assert net(tge.randn(3, 4, dtype=tge.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="floating-point"):
        net.to(tge.int64)


def test_to_cuda_without_a_gpu_is_a_clear_error():
    if tge.cuda_is_available():
        pytest.skip("this machine has a GPU")
    net = Net()
    with pytest.raises(RuntimeError, match="cuda"):
        net.to("cuda")
    assert all(p.device == "cpu" for p in net.parameters())  # nothing moved
    with pytest.raises(ValueError, match="unknown device"):
        net.to("tpu")
    assert net.to("cpu") is net


@pytest.mark.gpu
def test_to_cuda_moves_parameters_buffers_and_grads():
    net = Net()
    net(tge.randn(3, 4)).sum().backward()
    weight = net.fc1.weight
    net.to("cuda")
    assert net.fc1.weight is weight
    assert all(t.device == "cuda" for t in net.state_dict().values())
    assert all(p.grad.device == "cuda" for p in net.parameters())
    assert net(tge.randn(3, 4).cuda()).device == "cuda"
    assert net.cpu().fc1.weight.device == "cpu"


# ---- containers ----------------------------------------------------------------------------------


def test_sequential_indexing_slicing_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear) and isinstance(model[1], nn.ReLU)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["1", "2"]
    model.append(nn.Sigmoid())
    assert list(model._modules) == ["0", "1", "2", "3"]
    y = model(tge.randn(5, 2))
    assert y.shape == (5, 1) and float(y.amin()) > 0
    model[1] = nn.Tanh()
    assert isinstance(model[1], nn.Tanh)
    del model[0]
    assert list(model._modules) == ["0", "1", "2"] and isinstance(model[0], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        model[7]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_registers_its_entries():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 4))
    layers.insert(0, nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[0], nn.ReLU)
    assert list(layers.state_dict())[:2] == ["1.weight", "1.bias"]
    assert len(list(layers.parameters())) == 6
    with pytest.raises(TypeError, match="no forward"):
        layers(tge.zeros(2))


# ---- repr ----------------------------------------------------------------------------------------


def test_repr_tree_matches_pytorchs_layout():
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 128),
        nn.Dropout(0.25),
        nn.Sequential(nn.Linear(128, 10, bias=False), nn.LogSoftmax(dim=1)),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Linear(in_features=64, out_features=128, bias=True)\n"
        "  (6): Dropout(p=0.25, inplace=False)\n"
        "  (7): Sequential(\n"
        "    (0): Linear(in_features=128, out_features=10, bias=False)\n"
        "    (1): LogSoftmax(dim=1)\n"
        "  )\n"
        ")"
    )


def test_repr_equals_torchs_for_the_common_layers():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Linear(64, 128), torch.nn.Linear(64, 128)),
        (nn.Conv2d(3, 8, 5, stride=2, bias=False), torch.nn.Conv2d(3, 8, 5, stride=2, bias=False)),
        (nn.BatchNorm1d(4, momentum=None), torch.nn.BatchNorm1d(4, momentum=None)),
        (nn.BatchNorm2d(4, affine=False), torch.nn.BatchNorm2d(4, affine=False)),
        (nn.BatchNorm2d(4, bias=False), torch.nn.BatchNorm2d(4, bias=False)),
        (nn.LayerNorm(64), torch.nn.LayerNorm(64)),
        (nn.LayerNorm((2, 3), bias=False), torch.nn.LayerNorm((2, 3), bias=False)),
        (nn.LayerNorm(3, elementwise_affine=False), torch.nn.LayerNorm(3, elementwise_affine=False)),
        (nn.Embedding(10, 3), torch.nn.Embedding(10, 3)),
        (nn.Dropout(), torch.nn.Dropout()),
        (nn.GELU(), torch.nn.GELU()),
        (nn.LeakyReLU(), torch.nn.LeakyReLU()),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
