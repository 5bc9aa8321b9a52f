"""Every layer's backward against gradcheck (float64, through its parameters too) on drawn shapes,
plus outputs equal to torch's after loading torch's weights, and the layers' errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.nn.helpers import load_torch, module_gradcheck, randn
from tests.strategies import arrays, shapes, tensors, values
from tinygrad_edu import nn

# ---- gradcheck through each layer ----------------------------------------------------------------


@given(data=st.data(), n_in=st.integers(1, 4), n_out=st.integers(1, 4), bias=st.booleans())
def test_linear_backward(data, n_in, n_out, bias):
    batch = data.draw(shapes(min_dims=0, max_dims=2))
    x = data.draw(tensors(shape=(*batch, n_in)))
    assert module_gradcheck(nn.Linear(n_in, n_out, bias=bias), x)


@settings(max_examples=8)
@given(
    data=st.data(),
    c_in=st.integers(1, 2),
    c_out=st.integers(1, 2),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    bias=st.booleans(),
)
def test_conv2d_backward(data, c_in, c_out, k, stride, padding, bias):
    h, w = data.draw(st.integers(k, 5)), data.draw(st.integers(k, 5))
    x = data.draw(tensors(shape=(data.draw(st.integers(1, 2)), c_in, h, w)))
    assert module_gradcheck(nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias), x)


@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d])
@settings(max_examples=8)
@given(data=st.data(), k=st.integers(1, 3), stride=st.sampled_from([None, 1, 2]))
def test_pool_backward(pool, data, k, stride):
    padding = data.draw(st.integers(0, k // 2))
    h, w = data.draw(st.integers(k, 5)), data.draw(st.integers(k, 5))
    # values at least 0.1 apart: at a tie the max's derivative jumps
    x = data.draw(tensors(shape=(1, 2, h, w), unique=True, elements=st.integers(-40, 40).map(lambda i: i / 10)))
    assert module_gradcheck(pool(k, stride=stride, padding=padding), x)


ACTIVATIONS = {
    "ReLU": (lambda: nn.ReLU(), values(away_from=0.0)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), values(away_from=0.0)),
    "Sigmoid": (lambda: nn.Sigmoid(), values()),
    "Tanh": (lambda: nn.Tanh(), values()),
    "GELU": (lambda: nn.GELU(), values()),
    "GELU_tanh": (lambda: nn.GELU("tanh"), values()),
    "Softmax": (lambda: nn.Softmax(dim=-1), values()),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=0), values()),
    "Identity": (lambda: nn.Identity(), values()),
    "Flatten": (lambda: nn.Flatten(), values()),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(data=st.data())
def test_activation_backward(name, data):
    make, elements = ACTIVATIONS[name]
    x = data.draw(tensors(shape=data.draw(shapes(min_dims=2)), elements=elements))
    assert module_gradcheck(make(), x)


@given(data=st.data(), num=st.integers(1, 5), dim=st.integers(1, 3))
def test_embedding_backward_adds_repeated_rows(data, num, dim):
    idx = tge.tensor(data.draw(st.lists(st.integers(0, num - 1), min_size=1, max_size=6)))
    assert module_gradcheck(nn.Embedding(num, dim), idx)


@given(data=st.data(), affine=st.booleans())
def test_layer_norm_backward(data, affine):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=2))
    k = data.draw(st.integers(1, len(shape)))
    ln = nn.LayerNorm(shape[len(shape) - k :], elementwise_affine=affine)
    if affine:  # away from γ = 1, β = 0, so their gradients matter
        ln.weight.array[...] = np.linspace(0.5, 1.5, ln.weight.numel()).reshape(ln.weight.shape)
        ln.bias.array[...] = 0.3
    assert module_gradcheck(ln, data.draw(tensors(shape=shape)))


@pytest.mark.parametrize("training", [True, False])
@given(data=st.data(), affine=st.booleans())
def test_batch_norm_backward(training, data, affine):
    kind = data.draw(st.sampled_from(["1d", "1d_seq", "2d"]))
    c = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(2, 3))
    shape = {"1d": (n, c), "1d_seq": (n, c, 3), "2d": (n, c, 2, 2)}[kind]
    bn = (nn.BatchNorm2d if kind == "2d" else nn.BatchNorm1d)(c, affine=affine)
    bn.running_mean.array[...] = 0.2
    bn.running_var.array[...] = 1.5
    if affine:
        bn.weight.array[...] = np.linspace(0.5, 1.5, c)
    bn.train(training)
    assert module_gradcheck(bn, data.draw(tensors(shape=shape)))


@given(data=st.data(), p=st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_dropout_backward_with_a_fixed_mask(data, p):
    x = data.draw(tensors(shape=data.draw(shapes(min_dims=1))))
    assert module_gradcheck(nn.Dropout(p), x, seed=7)


LOSSES = {
    "CrossEntropyLoss": lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
    "NLLLoss": lambda: nn.NLLLoss(),
    "MSELoss": lambda: nn.MSELoss(),
    "BCELoss": lambda: nn.BCELoss(),
    "BCEWithLogitsLoss": lambda: nn.BCEWithLogitsLoss(pos_weight=tge.tensor([2.0, 0.5, 1.0])),
}


@pytest.mark.parametrize("name", list(LOSSES))
@given(data=st.data())
def test_loss_modules_backward(name, data):
    n = data.draw(st.integers(1, 4))
    if name in ("CrossEntropyLoss", "NLLLoss"):
        x = data.draw(tensors(shape=(n, 3)))
        target = tge.tensor(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    elif name == "BCELoss":
        x = data.draw(tensors(shape=(n, 3), elements=values(0.05, 0.95)))
        target = tge.tensor(data.draw(arrays((n, 3), values(0, 1))))
    else:
        x = data.draw(tensors(shape=(n, 3)))
        target = tge.tensor(data.draw(arrays((n, 3), values(0, 1))))
    assert module_gradcheck(LOSSES[name](), x, target)


def test_a_small_cnn_backward_end_to_end():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * 2 * 2, 3),
    )
    x = tge.tensor(randn(2, 1, 4, 4, dtype=np.float64), requires_grad=True)
    assert module_gradcheck(model, x)


# ---- outputs equal torch's with torch's weights ---------------------------------------------------


def test_layers_match_torch_with_its_weights():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Linear(5, 3), torch.nn.Linear(5, 3), (4, 5)),
        (nn.Linear(5, 3, bias=False), torch.nn.Linear(5, 3, bias=False), (2, 7, 5)),
        (nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 6)),
        (nn.Conv2d(2, 3, (3, 1), padding="same"), torch.nn.Conv2d(2, 3, (3, 1), padding="same"), (1, 2, 5, 5)),
        (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1), (2, 3, 7, 7)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2), (2, 3, 6, 6)),
        (nn.GELU("tanh"), torch.nn.GELU("tanh"), (3, 4)),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2), (3, 4)),
        (nn.LogSoftmax(1), torch.nn.LogSoftmax(1), (3, 4)),
        (nn.Flatten(0, 1), torch.nn.Flatten(0, 1), (2, 3, 4)),
    ]
    for ours, theirs, shape in pairs:
        load_torch(ours, theirs)
        x = randn(*shape)
        expected = theirs(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6, err_msg=repr(ours))


def test_embedding_matches_torch_including_padding_idx():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Embedding(6, 3, padding_idx=-1), torch.nn.Embedding(6, 3, padding_idx=-1)
    assert ours.padding_idx == theirs.padding_idx == 5
    assert np.all(ours.weight.numpy()[5] == 0)
    load_torch(ours, theirs)
    idx = np.array([[0, 5, 2], [2, 2, 5]])
    y_t = theirs(torch.tensor(idx))
    y_o = ours(tge.tensor(idx))
    np.testing.assert_allclose(y_o.numpy(), y_t.detach().numpy())
    g = randn(2, 3, 3)
    y_t.backward(torch.tensor(g))
    y_o.backward(g)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert np.all(ours.weight.grad.numpy()[5] == 0)


def test_loss_modules_match_torch():
    torch = pytest.importorskip("torch")
    logits, target = randn(5, 4), np.array([0, 3, 1, 1, -100])
    w = np.array([1.0, 2.0, 0.5, 1.0], dtype=np.float32)
    ours = nn.CrossEntropyLoss(weight=tge.tensor(w), ignore_index=-100, label_smoothing=0.2)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=-100, label_smoothing=0.2)
    got = ours(tge.tensor(logits), tge.tensor(target)).item()
    assert got == pytest.approx(theirs(torch.tensor(logits), torch.tensor(target)).item(), rel=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    x, y = randn(3, 2), (randn(3, 2, seed=1) > 0).astype(np.float32)
    pw = np.array([3.0, 0.5], dtype=np.float32)
    got = nn.BCEWithLogitsLoss(pos_weight=tge.tensor(pw), reduction="sum")(tge.tensor(x), tge.tensor(y)).item()
    want = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw), reduction="sum")(torch.tensor(x), torch.tensor(y))
    assert got == pytest.approx(want.item(), rel=1e-5)


# ---- errors that teach ---------------------------------------------------------------------------


def test_linear_feature_mismatch_names_both_shapes_and_the_sizes():
    with pytest.raises(ValueError) as e:
        nn.Linear(4, 3)(tge.zeros(8, 5))
    msg = str(e.value)
    assert "(8, 5)" in msg and "(3, 4)" in msg and "in_features=4" in msg and "out_features=3" in msg


def test_conv2d_channel_mismatch_and_bad_padding():
    with pytest.raises(ValueError, match="3 channels.*in_channels=1"):
        nn.Conv2d(1, 4, 3)(tge.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(1, 4, 3, stride=2, padding="same")
    assert nn.Conv2d(1, 4, 2, padding="same")(tge.zeros(1, 1, 5, 7)).shape == (1, 4, 5, 7)  # even: PyTorch's pads
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        nn.Conv2d(1, 4, 3, padding="full")


def test_embedding_index_out_of_range():
    with pytest.raises(IndexError, match="index 7 is out of range for a table of 5 rows"):
        nn.Embedding(5, 2)(tge.tensor([1, 7]))
    with pytest.raises(TypeError, match="integer"):
        nn.Embedding(5, 2)(tge.tensor([1.0]))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(tge.zeros(2, 3))
    with pytest.raises(ValueError, match="2 channels in dim 1, expected 3"):
        nn.BatchNorm1d(3)(tge.zeros(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tge.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(tge.zeros(1, 3))  # one sample is fine in evaluation


def test_activation_settings_are_checked():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(tge.randn(2, 3))
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0, rtol=1e-6)
