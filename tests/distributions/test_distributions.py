"""tinygrad_edu.distributions against torch.distributions (values and gradients of log_prob, entropy, mean,
variance), gradcheck of log_prob in the parameters, and sample statistics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu.distributions import Bernoulli, Categorical, Multinomial, Normal, Uniform


def _pair(name, params, value):
    """The same distribution (float64 parameters) in both libraries, its log_prob at value, the gradients."""
    torch = pytest.importorskip("torch")
    results = []
    for lib, module in ((tge, tge.distributions), (torch, torch.distributions)):
        ps = {k: lib.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
        d = getattr(module, name)(**ps) if name != "Multinomial" else module.Multinomial(4, **ps)
        lp = d.log_prob(lib.tensor(np.asarray(value)))  # float64, or int64 category indices
        lp.sum().backward()
        stats = {k: getattr(d, k).detach().numpy() for k in ("mean", "variance")}
        if name != "Multinomial":
            stats["entropy"] = d.entropy().detach().numpy()
        results.append((lp.detach().numpy(), {k: p.grad.numpy() for k, p in ps.items()}, stats, d))
    return results


CASES = [
    ("Normal", {"loc": [0.5, -1.0], "scale": [1.5, 0.2]}, [0.3, -1.1]),
    ("Uniform", {"low": [0.0, -2.0], "high": [1.0, 3.0]}, [0.25, 2.5]),
    ("Bernoulli", {"probs": [0.2, 0.9, 0.5]}, [1.0, 0.0, 1.0]),
    ("Bernoulli", {"logits": [-1.0, 2.0]}, [0.0, 1.0]),
    ("Categorical", {"probs": [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]}, [2, 0]),
    ("Categorical", {"logits": [[1.0, -1.0, 0.5, 0.0]]}, [[3], [1]]),
    ("Multinomial", {"probs": [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]}, [[1.0, 1.0, 2.0], [4.0, 0.0, 0.0]]),
    ("Multinomial", {"logits": [0.5, -0.5, 0.0]}, [0.0, 3.0, 1.0]),
]


@pytest.mark.parametrize("name, params, value", CASES)
def test_log_prob_its_gradients_and_the_moments_agree_with_torch(name, params, value):
    (ours, ours_grads, ours_stats, d), (theirs, theirs_grads, theirs_stats, t) = _pair(name, params, value)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    for k in ours_grads:
        np.testing.assert_allclose(ours_grads[k], theirs_grads[k], rtol=1e-10, atol=1e-12)
    for k in ours_stats:
        np.testing.assert_allclose(ours_stats[k], theirs_stats[k], rtol=1e-12, atol=1e-12)
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)


@settings(max_examples=20, deadline=None)
@given(loc=st.floats(-2, 2), scale=st.floats(0.3, 3), x=st.floats(-3, 3))
def test_normal_log_prob_gradcheck(loc, scale, x):
    ps = [tge.tensor([loc], dtype=np.float64, requires_grad=True), tge.tensor([scale], dtype=np.float64,
          requires_grad=True)]  # fmt: skip
    assert tge.gradcheck(lambda m, s: Normal(m, s).log_prob(tge.tensor([x], dtype=np.float64)), ps)


@settings(max_examples=20, deadline=None)
@given(logits=st.lists(st.floats(-3, 3), min_size=3, max_size=3), counts=st.lists(st.integers(0, 4), min_size=3,
       max_size=3))  # fmt: skip
def test_categorical_and_multinomial_log_prob_gradcheck(logits, counts):
    theta = tge.tensor(logits, dtype=np.float64, requires_grad=True)
    assert tge.gradcheck(lambda t: Categorical(logits=t).log_prob(tge.tensor([0, 2, 1])), [theta])
    value = tge.tensor(counts, dtype=np.float64)
    assert tge.gradcheck(lambda t: Multinomial(sum(counts), logits=t).log_prob(value), [theta])


def test_samples_have_the_right_shapes_and_statistics():
    tge.manual_seed(0)
    assert Normal(tge.zeros(3), 1.0).sample((2,)).shape == (2, 3)
    x = Normal(2.0, 0.5).sample((20000,))
    assert abs(x.mean().item() - 2.0) < 0.02 and abs(x.std().item() - 0.5) < 0.02
    c = Categorical(tge.tensor([0.1, 0.2, 0.7])).sample((20000,))
    assert c.dtype == np.int64 and abs((c == 2).float().mean().item() - 0.7) < 0.02
    counts = Multinomial(10, tge.tensor([0.5, 0.5])).sample((500,))
    assert (
        counts.shape == (500, 2) and (counts.sum(-1) == 10).all().item() and abs(counts[:, 0].mean().item() - 5) < 0.3
    )
    b = Bernoulli(tge.tensor([0.25])).sample((20000,))
    assert set(np.unique(b.numpy())) == {0.0, 1.0} and abs(b.mean().item() - 0.25) < 0.02
    u = Uniform(-1.0, 3.0).sample((20000,))
    assert u.min().item() >= -1 and u.max().item() < 3 and abs(u.mean().item() - 1.0) < 0.05


def test_rsample_carries_gradients_to_the_parameters():
    loc, scale = tge.tensor([1.0], requires_grad=True), tge.tensor([2.0], requires_grad=True)
    tge.manual_seed(1)
    x = Normal(loc, scale).rsample((1000,))
    x.mean().backward()
    assert abs(loc.grad.item() - 1.0) < 1e-6 and abs(scale.grad.item() - x.detach().sub(1).div(2).mean().item()) < 1e-5


def test_errors_as_pytorch():
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Categorical()
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Bernoulli(probs=0.5, logits=0.0)
    assert tge.distributions.multinomial.Multinomial is Multinomial  # torch.distributions.multinomial's path
