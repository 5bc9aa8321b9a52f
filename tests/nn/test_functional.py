"""nn.functional: dropout's statistics and edge cases, one_hot, embedding, linear, and the re-exports."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.ops import conv, loss

# ---- dropout -------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_dropout_drops_a_fraction_p_and_scales_by_one_over_keep(p):
    x = tge.ones(200, 100)
    y = F.dropout(x, p, training=True).numpy()
    dropped = (y == 0).mean()
    sigma = np.sqrt(p * (1 - p) / y.size)
    assert abs(dropped - p) < 5 * sigma
    np.testing.assert_allclose(y[y != 0], np.float32(1 / (1 - p)), rtol=1e-6)  # exactly 1/(1 − p)
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / y.size)  # the mean is preserved
    assert y.dtype == np.float32


def test_dropout_gradient_is_the_same_mask():
    x = tge.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-5)


def test_dropout_eval_and_p_zero_are_the_identity_and_p_one_zeros():
    x = tge.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.9).eval()
    assert layer(x) is x
    y = F.dropout(x, 1.0)
    assert not y.numpy().any() and not np.isnan(y.numpy()).any()
    y.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_is_repeatable_with_the_seed():
    x = tge.ones(30)
    tge.manual_seed(5)
    a = nn.Dropout()(x).numpy()
    tge.manual_seed(5)
    b = nn.Dropout()(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout()(x).numpy())


def test_dropout_probability_is_checked():
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        F.dropout(tge.ones(2), -0.1)


# ---- one_hot, embedding, linear --------------------------------------------------------------------


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 2], [1, 4]])
    for n in (-1, 6):
        want = torch.nn.functional.one_hot(torch.tensor(idx), n).numpy()
        got = F.one_hot(tge.tensor(idx), n)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.numpy(), want)


def test_one_hot_errors():
    with pytest.raises(IndexError, match=r"0\.\.2"):
        F.one_hot(tge.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(tge.tensor([0.0]))
    with pytest.raises(ValueError, match="empty"):
        F.one_hot(tge.tensor(np.zeros(0, dtype=np.int64)))


def test_embedding_is_onehot_times_the_table():
    w = tge.randn(5, 3)
    idx = tge.tensor([[4, 0], [2, 2]])
    expected = F.one_hot(idx, 5).numpy().astype(np.float32) @ w.numpy()
    np.testing.assert_allclose(F.embedding(idx, w).numpy(), expected, rtol=1e-6)


def test_linear_is_x_times_w_transposed_plus_b():
    x, w, b = tge.randn(4, 3), tge.randn(2, 3), tge.randn(2)
    np.testing.assert_allclose(F.linear(x, w, b).numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-5)
    np.testing.assert_allclose(F.linear(x, w).numpy(), x.numpy() @ w.numpy().T, rtol=1e-5)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(x, tge.randn(3))


def test_activations_match_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 17, dtype=np.float32).reshape(1, 17)
    tf = torch.nn.functional
    pairs = [
        (F.relu, tf.relu),
        (lambda t: F.leaky_relu(t, 0.2), lambda t: tf.leaky_relu(t, 0.2)),
        (F.sigmoid, torch.sigmoid),
        (F.tanh, torch.tanh),
        (F.gelu, tf.gelu),
        (lambda t: F.gelu(t, approximate="tanh"), lambda t: tf.gelu(t, approximate="tanh")),
        (lambda t: F.softmax(t, dim=1), lambda t: tf.softmax(t, dim=1)),
        (lambda t: F.log_softmax(t, dim=-1), lambda t: tf.log_softmax(t, dim=-1)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tge.tensor(x), approximate="fast")


def test_losses_and_conv_are_re_exported_not_duplicated():
    assert F.cross_entropy is loss.cross_entropy and F.nll_loss is loss.nll_loss
    assert F.binary_cross_entropy is loss.binary_cross_entropy
    assert F.binary_cross_entropy_with_logits is loss.binary_cross_entropy_with_logits
    assert F.mse_loss is loss.mse_loss
    # F.conv2d and the pools take PyTorch's full options; their plain case is ops.conv's Function
    x, w = tge.randn(1, 2, 5, 5, requires_grad=True), tge.randn(3, 2, 3, 3)
    assert type(F.conv2d(x, w)._ctx) is conv.Conv2d
    assert type(F.max_pool2d(x, 2)._ctx) is conv.MaxPool2d and type(F.avg_pool2d(x, 2)._ctx) is conv.AvgPool2d
    assert tge.nn.functional is F
