"""nn.init and the layers' default initialisation: gains, fans, bounds and statistics as PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn
from tinygrad_edu.nn import init


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None)]
    cases += [("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5))]
    for nonlinearity, param in cases:
        assert init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param)
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (8, 3, 5, 5), (6, 2, 3)]:
        t = tge.zeros(*shape)
        assert init._calculate_fan_in_and_fan_out(t) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(tge.zeros(5))


def _assert_uniform(a: np.ndarray, bound: float) -> None:
    """Inside (−bound, bound), reaching close to both ends, with the variance of U(−b, b): b²/3."""
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert a.max() > 0.95 * bound and a.min() < -0.95 * bound
    assert a.var() == pytest.approx(bound**2 / 3, rel=0.08)


def test_kaiming_uniform_with_a_sqrt5_has_bound_one_over_sqrt_fan_in():
    w = init.kaiming_uniform_(tge.zeros(64, 100), a=math.sqrt(5))
    _assert_uniform(w.numpy(), 1 / math.sqrt(100))


def test_kaiming_and_xavier_statistics():
    w = tge.zeros(200, 50)  # fan_in 50, fan_out 200
    _assert_uniform(init.kaiming_uniform_(w, nonlinearity="relu").numpy(), math.sqrt(3) * math.sqrt(2 / 50))
    _assert_uniform(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy(), math.sqrt(6 / 200))
    _assert_uniform(init.xavier_uniform_(w, gain=2.0).numpy(), 2.0 * math.sqrt(6 / 250))
    assert init.kaiming_normal_(w, nonlinearity="relu").numpy().std() == pytest.approx(math.sqrt(2 / 50), rel=0.05)
    assert init.kaiming_normal_(w, mode="fan_out").numpy().std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    assert init.xavier_normal_(w).numpy().std() == pytest.approx(math.sqrt(2 / 250), rel=0.05)
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(w, mode="fan_middle")


def test_simple_fills():
    t = tge.zeros(3, 4)
    assert np.all(init.ones_(t).numpy() == 1)
    assert np.all(init.zeros_(t).numpy() == 0)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25)
    u = init.uniform_(tge.zeros(1000), -2, 3).numpy()
    assert u.min() >= -2 and u.max() < 3 and u.mean() == pytest.approx(0.5, abs=0.15)
    n = init.normal_(tge.zeros(4000), 1.0, 0.5).numpy()
    assert n.mean() == pytest.approx(1.0, abs=0.03) and n.std() == pytest.approx(0.5, rel=0.05)


def test_init_works_on_parameters_and_records_no_graph():
    p = nn.Parameter(tge.zeros(3, 3))
    out = init.kaiming_uniform_(p)
    assert out is p and p.is_leaf and p.requires_grad and p.numpy().any()


def test_default_inits_are_pytorchs():
    linear = nn.Linear(100, 50)
    _assert_uniform(linear.weight.numpy(), 1 / math.sqrt(100))
    assert np.abs(linear.bias.numpy()).max() <= 0.1
    conv = nn.Conv2d(3, 64, 5)  # fan_in = 3 · 5 · 5 = 75
    _assert_uniform(conv.weight.numpy(), 1 / math.sqrt(75))
    assert np.abs(conv.bias.numpy()).max() <= 1 / math.sqrt(75)
    emb = nn.Embedding(100, 40).weight.numpy()
    assert emb.mean() == pytest.approx(0, abs=0.05) and emb.std() == pytest.approx(1, rel=0.05)
    for norm in (nn.LayerNorm(6), nn.BatchNorm2d(6)):
        assert np.all(norm.weight.numpy() == 1) and np.all(norm.bias.numpy() == 0)
    mha = nn.MultiheadAttention(32, 4)
    _assert_uniform(mha.in_proj_weight.numpy(), math.sqrt(6 / (32 + 96)))  # xavier on (3E, E)
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    _assert_uniform(mha.out_proj.weight.numpy(), 1 / math.sqrt(32))


def test_initial_weights_follow_the_seed():
    tge.manual_seed(3)
    a = nn.Linear(4, 4).weight.numpy().copy()
    tge.manual_seed(3)
    b = nn.Linear(4, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
