"""The third-wave modules against PyTorch (same weights, same inputs: equal outputs and gradients), the new
functional ops against gradcheck, and the modules' PyTorch defaults and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tests.nn.helpers import module_gradcheck
from tests.strategies import tensors
from tinygrad_edu import nn

R = np.random.default_rng(0)
X4 = R.standard_normal((2, 4, 6, 5))
X3 = R.standard_normal((2, 4, 9))
X2 = R.standard_normal((5, 4))

# name: (our module, torch's module from the same arguments, inputs)
MODULES = {
    "Conv1d": ("Conv1d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2)", [X3]),
    "Conv1d same reflect": ("Conv1d(4, 2, 4, padding='same', padding_mode='reflect')", [X3]),
    "Conv1d no bias": ("Conv1d(4, 3, 2, bias=False)", [X3]),
    "ConvTranspose2d": ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)", [X4]),
    "ConvTranspose2d dilation": ("ConvTranspose2d(4, 3, (2, 3), dilation=2, bias=False)", [X4]),
    "ConvTranspose1d": ("ConvTranspose1d(4, 2, 3, stride=2, padding=1)", [X3]),
    "MaxPool1d": ("MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", [X3]),
    "AvgPool1d": ("AvgPool1d(3, stride=2, padding=1, count_include_pad=False)", [X3]),
    "MaxPool2d options": ("MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True)", [X4]),
    "AvgPool2d options": ("AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", [X4]),
    "AdaptiveAvgPool1d": ("AdaptiveAvgPool1d(4)", [X3]),
    "AdaptiveAvgPool2d": ("AdaptiveAvgPool2d((3, None))", [X4]),
    "AdaptiveAvgPool2d global": ("AdaptiveAvgPool2d(1)", [X4]),
    "AdaptiveMaxPool1d": ("AdaptiveMaxPool1d(4)", [X3]),
    "AdaptiveMaxPool2d": ("AdaptiveMaxPool2d((4, 3))", [X4]),
    "GroupNorm": ("GroupNorm(2, 4)", [X4]),
    "GroupNorm no affine": ("GroupNorm(4, 4, eps=1e-3, affine=False)", [X3]),
    "InstanceNorm2d": ("InstanceNorm2d(4)", [X4]),
    "InstanceNorm2d affine": ("InstanceNorm2d(4, affine=True)", [X4]),
    "InstanceNorm1d": ("InstanceNorm1d(4, affine=True)", [X3]),
    "PReLU": ("PReLU()", [X4]),
    "PReLU per channel": ("PReLU(4, init=0.1)", [X4]),
    "Unflatten": ("Unflatten(1, (2, 2))", [X2]),
    "Upsample nearest": ("Upsample(scale_factor=2)", [X4]),
    "Upsample bilinear": ("Upsample(size=(7, 9), mode='bilinear', align_corners=False)", [X4]),
    "Upsample linear": ("Upsample(scale_factor=1.5, mode='linear', align_corners=True)", [X3]),
    "UpsamplingBilinear2d": ("UpsamplingBilinear2d(scale_factor=2)", [X4]),
    "UpsamplingNearest2d": ("UpsamplingNearest2d(size=(3, 8))", [X4]),
    "CosineSimilarity": ("CosineSimilarity()", [X2, X2[::-1].copy()]),
    "PairwiseDistance": ("PairwiseDistance(p=1.0)", [X2, X2[::-1].copy()]),
    "PairwiseDistance keepdim": ("PairwiseDistance(keepdim=True)", [X2, X2[::-1].copy()]),
}
for _act in (
    "ELU() ELU(0.5) CELU(1.5) SELU() SiLU() Mish() Softplus(2.0,5.0) Hardtanh(-0.5,2.0) ReLU6() Hardswish() "
    "Hardsigmoid() LogSigmoid() Softsign() Tanhshrink() Softshrink(0.7) Hardshrink() Threshold(0.1,20.0) "
    "GLU(1) Softmin(1)"
).split():
    MODULES[_act] = (_act, [X4 * 3])

_POS = np.abs(R.standard_normal((5, 4))) + 0.1
_SIGN = np.where(R.standard_normal(5) > 0, 1.0, -1.0)
_LOGP = np.log(np.abs(R.standard_normal((5, 4))) + 0.1)
LOSSES = {
    "L1Loss": ("L1Loss()", [X2, X2[::-1].copy()]),
    "L1Loss sum": ("L1Loss(reduction='sum')", [X2, X2[::-1].copy()]),
    "SmoothL1Loss": ("SmoothL1Loss(beta=0.5)", [X2, 2 * X2[::-1].copy()]),
    "HuberLoss": ("HuberLoss(reduction='none', delta=0.7)", [X2, 2 * X2[::-1].copy()]),
    "KLDivLoss": ("KLDivLoss(reduction='batchmean')", [_LOGP, _POS / _POS.sum(1, keepdims=True)]),
    "KLDivLoss log_target": ("KLDivLoss(reduction='sum', log_target=True)", [_LOGP, _LOGP[::-1].copy()]),
    "MarginRankingLoss": ("MarginRankingLoss(margin=0.3)", [X2[:, 0], X2[:, 1], _SIGN]),
    "CosineEmbeddingLoss": ("CosineEmbeddingLoss(margin=0.2)", [X2, X2[::-1].copy(), _SIGN]),
    "TripletMarginLoss": ("TripletMarginLoss(margin=0.5, swap=True)", [X2, X2[::-1].copy(), 2 * X2]),
    "PoissonNLLLoss": ("PoissonNLLLoss()", [X2, _POS]),
    "PoissonNLLLoss full": ("PoissonNLLLoss(log_input=False, full=True)", [_POS, 3 * _POS[::-1].copy()]),
    "GaussianNLLLoss": ("GaussianNLLLoss()", [X2, X2[::-1].copy(), _POS]),
    "GaussianNLLLoss full": ("GaussianNLLLoss(full=True, reduction='sum')", [X2, X2[::-1].copy(), _POS]),
    "MultiLabelSoftMarginLoss": ("MultiLabelSoftMarginLoss()", [X2, (_POS > 0.8).astype(np.float64)]),
}


def _compare(spec, inputs, torch, rtol=1e-9):
    ours, theirs = eval("nn." + spec), eval("torch.nn." + spec)  # the same constructor call
    assert type(ours).__name__ == type(theirs).__name__
    theirs = theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.double()
    xs = [tge.tensor(a, requires_grad=a.dtype == np.float64) for a in inputs]
    ts = [torch.tensor(a, requires_grad=a.dtype == np.float64) for a in inputs]
    y, yt = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = R.standard_normal(y.shape)
    (y * tge.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(xs, ts):
        if b.grad is not None:  # (targets get none)
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-11)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=1e-9, atol=1e-11)
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_agrees_with_torch(name):
    torch = pytest.importorskip("torch")
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 even in float64
    _compare(*MODULES[name], torch, rtol=1e-6 if name == "Hardsigmoid()" else 1e-9)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_module_agrees_with_torch(name):
    torch = pytest.importorskip("torch")
    _compare(*LOSSES[name], torch)


def test_training_statistics_and_eval_agree_with_torch():
    """InstanceNorm2d(track_running_stats=True): running estimates after two batches, then evaluation."""
    torch = pytest.importorskip("torch")
    ours, theirs = (
        nn.InstanceNorm2d(4, momentum=0.2, track_running_stats=True),
        torch.nn.InstanceNorm2d(4, momentum=0.2, track_running_stats=True),
    )
    for x in (X4, 2 * X4 + 1):
        ours(tge.tensor(x, dtype=tge.float32))
        theirs(torch.tensor(x, dtype=torch.float32))
    for name in ("running_mean", "running_var", "num_batches_tracked"):  # PyTorch does not count batches here
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(
        ours(tge.tensor(X4, dtype=tge.float32)).numpy(),
        theirs(torch.tensor(X4, dtype=torch.float32)).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_conv_transpose2d_output_size_and_defaults_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.ConvTranspose2d(4, 2, 3, stride=2), torch.nn.ConvTranspose2d(4, 2, 3, stride=2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = X4.astype(np.float32)
    y = ours(tge.tensor(x), output_size=(14, 12))
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x), output_size=(14, 12)).detach().numpy(), atol=1e-5)
    assert y.shape == (2, 2, 14, 12)
    with pytest.raises(ValueError, match="valid sizes range from 13 to 14"):
        ours(tge.tensor(x), output_size=(15, 12))
    # PyTorch's initialisation range: U(±1/√fan_in), fan_in = weight.size(1)·KH·KW = 2·9
    big = nn.ConvTranspose2d(64, 2, 3)
    assert np.abs(big.weight.numpy()).max() <= 1 / np.sqrt(18) and np.abs(big.weight.numpy()).max() > 0.2


def test_module_defaults_are_torch_defaults():
    torch = pytest.importorskip("torch")
    import inspect

    for name in (
        "Conv1d ConvTranspose2d ConvTranspose1d MaxPool1d AvgPool1d MaxPool2d AvgPool2d AdaptiveMaxPool2d GroupNorm "
        "InstanceNorm2d InstanceNorm1d Dropout1d Dropout2d Dropout3d PReLU Upsample ELU CELU Softplus Hardtanh "
        "Threshold Softshrink GLU Softmin L1Loss SmoothL1Loss HuberLoss KLDivLoss TripletMarginLoss PoissonNLLLoss "
        "GaussianNLLLoss CosineSimilarity PairwiseDistance MarginRankingLoss CosineEmbeddingLoss"
    ).split():
        ours = inspect.signature(getattr(nn, name)).parameters
        theirs = inspect.signature(getattr(torch.nn, name)).parameters
        skip = {"device", "dtype", "size_average", "reduce", "min_value", "max_value"}  # (deprecated aliases)
        for arg, p in theirs.items():
            if arg in skip:
                continue
            assert arg in ours, f"{name} lacks {arg}"
            assert ours[arg].default == p.default, f"{name}({arg}=) default {ours[arg].default} != {p.default}"


@pytest.mark.parametrize("cls, shape", [(nn.Dropout1d, (3, 5, 40)), (nn.Dropout2d, (3, 5, 6, 7)),
                                        (nn.Dropout3d, (3, 5, 2, 3, 4))])  # fmt: skip
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    tge.manual_seed(0)
    layer = cls(p=0.5)
    x = tge.ones(*shape)
    y = layer(x).numpy().reshape(shape[0], shape[1], -1)
    per_channel = y[:, :, 0]
    assert set(np.unique(y)) <= {0.0, 2.0}  # kept ones scaled by 1/(1 − p)
    assert (y == per_channel[:, :, None]).all()  # one draw per (sample, channel)
    assert 0 < (per_channel == 0).sum() < per_channel.size
    layer.eval()
    assert layer(x) is x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dropout2d of 3 dims: PyTorch's warning that it reads them as (N, C, L)
        unbatched = layer.train()(tge.ones(*shape[1:]))
    assert unbatched.shape == shape[1:]
    if cls is nn.Dropout1d:
        with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
            cls()(tge.ones(4))
    else:  # PyTorch's deprecated path: other ranks warn (a 1-D input then has no channels to drop)
        with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="at least 2 dim"):
            nn.Dropout2d()(tge.ones(4))


def test_channel_dropout_gradient_is_the_mask():
    tge.manual_seed(3)
    x = tge.randn(2, 3, 4, 4, requires_grad=True)
    y = F.dropout2d(x, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.numpy() != 0) / 0.6, rtol=1e-6)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), groups=st.sampled_from([1, 2, 4]), spatial=st.integers(1, 2))
def test_group_norm_gradcheck(data, groups, spatial):
    shape = (
        data.draw(st.integers(1, 2)),
        4,
        *data.draw(st.lists(st.integers(2, 3), min_size=spatial, max_size=spatial)),
    )
    x = data.draw(tensors(shape=shape))
    assert module_gradcheck(nn.GroupNorm(groups, 4), x)


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_instance_norm_gradcheck(data):
    x = data.draw(tensors(shape=(2, 3, 3, data.draw(st.integers(2, 3)))))
    assert module_gradcheck(nn.InstanceNorm2d(3, affine=True), x)


@pytest.mark.parametrize("fn", [F.tanhshrink, lambda x: F.softshrink(x, 0.3), lambda x: F.hardshrink(x, 0.3),
                                lambda x: F.threshold(x, 0.2, -1.0)])  # fmt: skip
def test_shrinks_gradcheck(fn):
    # values kept away from the kinks at ±0.3 and 0.2
    x = tge.tensor(np.array([-2.0, -0.9, -0.1, 0.05, 0.6, 1.7]), requires_grad=True)
    assert tge.gradcheck(fn, [x])


@settings(max_examples=8, deadline=None)
@given(data=st.data(), k=st.integers(1, 3), stride=st.integers(1, 2))
def test_conv_modules_gradcheck(data, k, stride):
    length = data.draw(st.integers(k, 6))
    x = data.draw(tensors(shape=(1, 2, length)))
    assert module_gradcheck(nn.Conv1d(2, 2, k, stride=stride, padding=k // 2), x)
    x2 = data.draw(tensors(shape=(1, 2, 2, length)))
    assert module_gradcheck(nn.ConvTranspose2d(2, 3, k, stride=stride), x2)


def test_errors():
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="divisible by num_groups 3"):
        F.group_norm(tge.ones(2, 4, 3), 3)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv1d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(RuntimeError, match="3 channels in dim 1, expected in_channels=2"):
        nn.Conv1d(2, 2, 3)(tge.ones(1, 3, 5))
    with pytest.raises(ValueError, match="expected 3D .unbatched. or 4D input"):
        nn.InstanceNorm2d(2)(tge.ones(2, 2))


def test_parameters_to_vector_and_back_as_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.Conv1d(2, 2, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Conv1d(2, 2, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    tvec = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.numpy(), tvec.detach().numpy())
    (vec * tge.arange(vec.numel())).sum().backward()  # differentiable: each parameter gets its slice of the weights
    np.testing.assert_array_equal(ours[0].bias.grad.numpy(), np.arange(12, 16))
    new = np.arange(vec.numel(), dtype=np.float32)
    nn.utils.vector_to_parameters(tge.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy(), err_msg=name)
    with pytest.raises(RuntimeError, match="does not hold the 26 parameter values"):
        nn.utils.vector_to_parameters(tge.zeros(5), ours.parameters())
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters(new, ours.parameters())
