"""nn.utils.prune: PyTorch's names (weight_orig, weight_mask), its masks, the forward pre-hook, remove, containers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.utils.prune as prune
from tinygrad_edu import nn


def _linear(rng, n_in=6, n_out=5):
    m = nn.Linear(n_in, n_out)
    m.weight.array[...] = rng.standard_normal((n_out, n_in)).astype(np.float32)
    return m


def test_l1_unstructured_names_mask_and_hook():
    m = _linear(np.random.default_rng(0))
    w = m.weight.numpy().copy()
    prune.l1_unstructured(m, "weight", amount=0.4)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    mask = m.weight_mask.numpy()
    assert mask.sum() == 30 - round(0.4 * 30)
    assert np.abs(w)[mask == 0].max() <= np.abs(w)[mask == 1].min()  # the smallest |w| went
    np.testing.assert_array_equal(m.weight.numpy(), w * mask)
    np.testing.assert_array_equal(m.weight_orig.numpy(), w)  # the learned numbers are untouched
    assert prune.is_pruned(m) and prune.is_pruned(nn.Sequential(m))


def test_pruned_entries_get_no_gradient_and_the_hook_recomputes_weight():
    m = _linear(np.random.default_rng(1))
    prune.l1_unstructured(m, "weight", amount=10)
    x = tge.randn(3, 6)
    m(x).sum().backward()
    mask = m.weight_mask.numpy()
    assert np.all(m.weight_orig.grad.numpy()[mask == 0] == 0)
    assert np.all(m.weight_orig.grad.numpy()[mask == 1] != 0)
    with tge.no_grad():
        m.weight_orig.array[...] += 1.0  # an optimizer step on weight_orig ...
    m(x)  # ... shows in weight at the next forward, still masked
    np.testing.assert_allclose(m.weight.numpy(), m.weight_orig.numpy() * mask)


def test_pruning_twice_prunes_among_the_survivors():
    m = _linear(np.random.default_rng(2), 10, 10)
    prune.l1_unstructured(m, "weight", amount=0.5)
    prune.l1_unstructured(m, "weight", amount=0.5)
    assert m.weight_mask.numpy().sum() == 25
    hooks = [h for h, _ in m._forward_pre_hooks.values()]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 2


def test_remove_makes_it_permanent_with_the_same_parameter_object():
    m = _linear(np.random.default_rng(3))
    p = m.weight
    prune.l1_unstructured(m, "weight", amount=0.5)
    pruned = m.weight.numpy().copy()
    prune.remove(m, "weight")
    assert m.weight is p and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.numpy(), pruned)
    assert list(m.state_dict()) == ["weight", "bias"] or list(m.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(m) and not m._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(m, "weight")


def test_identity_random_and_structured():
    tge.manual_seed(0)
    m = nn.Conv2d(3, 8, 3)
    prune.identity(m, "bias")
    assert m.bias_mask.numpy().sum() == 8
    prune.random_unstructured(m, "weight", amount=0.3)
    assert (m.weight_mask.numpy() == 0).sum() == round(0.3 * m.weight.numel())
    prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
    alive = m.weight_mask.numpy().reshape(8, -1).sum(1) > 0
    assert alive.sum() == 4  # half of the output channels are gone entirely


def test_bad_amounts_are_named():
    m = _linear(np.random.default_rng(4))
    with pytest.raises(ValueError, match="amount=1.5"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(ValueError, match="smaller than the number"):
        prune.l1_unstructured(m, "weight", amount=31)
    with pytest.raises(TypeError, match='only "unstructured"'):
        prune.global_unstructured([(m, "weight")], pruning_method=prune.LnStructured, amount=0.5, n=2, dim=0)


def test_global_unstructured_prunes_across_layers():
    rng = np.random.default_rng(5)
    a, b = _linear(rng), _linear(rng)
    b.weight.array[...] *= 10  # b's weights are large: the global 50% takes mostly a's
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=0.5)
    zeros_a, zeros_b = (a.weight_mask.numpy() == 0).sum(), (b.weight_mask.numpy() == 0).sum()
    assert zeros_a + zeros_b == 30 and zeros_a > zeros_b


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 7),
    cols=st.integers(1, 7),
    amount=st.floats(0.0, 1.0) | st.integers(0, 1),
    seed=st.integers(0, 2**31 - 1),
)
def test_masks_agree_with_torch(rows, cols, amount, seed):
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    w = np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)  # no ties
    ours, theirs = nn.Linear(cols, rows), torch.nn.Linear(cols, rows)
    ours.weight.array[...] = w
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(w))
    prune.l1_unstructured(ours, "weight", amount=amount)
    tp.l1_unstructured(theirs, "weight", amount=amount)
    prune.l1_unstructured(ours, "weight", amount=0.3)
    tp.l1_unstructured(theirs, "weight", amount=0.3)
    prune.ln_structured(ours, "weight", amount=0.5, n=1, dim=0)
    tp.ln_structured(theirs, "weight", amount=0.5, n=1, dim=0)
    np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())


def test_global_and_remove_agree_with_torch():
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    rng = np.random.default_rng(6)
    ws = [rng.standard_normal(s).astype(np.float32) for s in ((8, 5), (3, 8))]
    ours = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    for i, w in zip((0, 2), ws):
        ours[i].weight.array[...] = w
        with torch.no_grad():
            theirs[i].weight.copy_(torch.from_numpy(w))
    prune.global_unstructured([(ours[0], "weight"), (ours[2], "weight")], prune.L1Unstructured, amount=0.7)
    tp.global_unstructured([(theirs[0], "weight"), (theirs[2], "weight")], tp.L1Unstructured, amount=0.7)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for i in (0, 2):
        np.testing.assert_array_equal(ours[i].weight_mask.numpy(), theirs[i].weight_mask.numpy())
        prune.remove(ours[i], "weight")
        tp.remove(theirs[i], "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs_sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs_sd)  # a pruned torch model's state dict loads here
    assert tge.is_tensor(ours[0].weight)
