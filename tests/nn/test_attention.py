"""Attention: scaled_dot_product_attention, MultiheadAttention and the Transformer encoder against
torch (loading torch's state dicts proves the parameter names), and their backward by gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tests.nn.helpers import load_torch, module_gradcheck, randn
from tests.strategies import tensors
from tinygrad_edu import nn

# ---- scaled_dot_product_attention ----------------------------------------------------------------


def _sdpa_both(torch, q, k, v, **kwargs):
    def to_torch(a):
        return torch.tensor(a) if isinstance(a, np.ndarray) else a

    theirs = torch.nn.functional.scaled_dot_product_attention(
        to_torch(q), to_torch(k), to_torch(v), **{n: to_torch(a) for n, a in kwargs.items()}
    )
    ours = F.scaled_dot_product_attention(tge.tensor(q), tge.tensor(k), tge.tensor(v), **kwargs)
    return ours.numpy(), theirs.numpy()


def test_sdpa_matches_torch_with_each_kind_of_mask():
    torch = pytest.importorskip("torch")
    q, k, v = randn(2, 3, 4, 8), randn(2, 3, 6, 8, seed=1), randn(2, 3, 6, 5, seed=2)
    keep = np.random.default_rng(0).random((4, 6)) > 0.4
    keep[:, 0] = True
    cases = [
        {},
        {"attn_mask": keep},  # bool: True = may attend
        {"attn_mask": randn(2, 1, 4, 6, seed=3)},  # float: added to the scores
        {"is_causal": True},
        {"scale": 0.3},
    ]
    for kwargs in cases:
        ours, theirs = _sdpa_both(torch, q, k, v, **kwargs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=str(list(kwargs)))


def test_sdpa_gives_zeros_for_a_query_that_sees_no_key():
    torch = pytest.importorskip("torch")
    q, k = randn(1, 3, 4), randn(1, 5, 4, seed=1)
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    ours, theirs = _sdpa_both(torch, q, k, k, attn_mask=keep)
    assert not np.isnan(ours).any() and np.all(ours[0, 1] == 0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@settings(max_examples=8)
@given(data=st.data(), causal=st.booleans())
def test_sdpa_backward(data, causal):
    length, source, e = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    if causal:
        source = length
    q = data.draw(tensors(shape=(2, length, e)))
    k = data.draw(tensors(shape=(2, source, e)))
    v = data.draw(tensors(shape=(2, source, 2)))
    assert tge.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), [q, k, v])


def test_sdpa_errors():
    q = tge.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, tge.zeros(2, 3, 5), tge.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)


# ---- MultiheadAttention ----------------------------------------------------------------------------


def _mha_pair(torch, e=8, heads=2, **kwargs):
    ours, theirs = nn.MultiheadAttention(e, heads, **kwargs), torch.nn.MultiheadAttention(e, heads, **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():  # torch starts its biases at zero: make them matter
            if p.ndim == 1:
                p.copy_(torch.tensor(randn(*p.shape, seed=5)))
    load_torch(ours, theirs)
    return ours, theirs


def test_mha_parameters_have_torchs_names_and_shapes():
    torch = pytest.importorskip("torch")
    ours, theirs = _mha_pair(torch, 12, 3, batch_first=True)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert list(ours.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_mha_matches_torch_with_masks_and_gradients(batch_first, average):
    torch = pytest.importorskip("torch")
    ours, theirs = _mha_pair(torch, batch_first=batch_first)
    n, length, source = 2, 3, 5
    q_shape, kv_shape = ((n, length, 8), (n, source, 8)) if batch_first else ((length, n, 8), (source, n, 8))
    q, k, v = randn(*q_shape), randn(*kv_shape, seed=1), randn(*kv_shape, seed=2)
    padding = np.zeros((n, source), dtype=bool)
    padding[0, 3:] = True  # the first sequence has two padded keys
    not_allowed = np.triu(np.ones((length, source), dtype=bool), 2)
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    qo, ko, vo = (tge.tensor(a, requires_grad=True) for a in (q, k, v))
    out_t, w_t = theirs(
        qt,
        kt,
        vt,
        key_padding_mask=torch.tensor(padding),
        attn_mask=torch.tensor(not_allowed),
        average_attn_weights=average,
    )
    out_o, w_o = ours(qo, ko, vo, key_padding_mask=padding, attn_mask=not_allowed, average_attn_weights=average)
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_o.numpy(), w_t.detach().numpy(), rtol=1e-4, atol=1e-6)
    g = randn(*out_t.shape, seed=7)
    out_t.backward(torch.tensor(g))
    out_o.backward(g)
    for a, b in ((qo, qt), (ko, kt), (vo, vt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_mha_float_masks_unbatched_input_and_no_weights():
    torch = pytest.importorskip("torch")
    ours, theirs = _mha_pair(torch, batch_first=True)
    x = randn(4, 8)
    bias = randn(2 * 2, 4, 4, seed=3)  # (N·heads, L, S), added to the scores
    out_t, w_t = theirs(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(bias[0]))  # unbatched: (L, S)
    out_o, w_o = ours(*(tge.tensor(x),) * 3, attn_mask=bias[0])
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_o.numpy(), w_t.detach().numpy(), rtol=1e-4, atol=1e-6)
    xb = randn(2, 4, 8, seed=4)
    out_t, _ = theirs(*(torch.tensor(xb),) * 3, attn_mask=torch.tensor(bias))
    out_o, none = ours(*(tge.tensor(xb),) * 3, attn_mask=tge.tensor(bias), need_weights=False)
    assert none is None
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_mha_is_causal_builds_the_causal_mask():
    torch = pytest.importorskip("torch")
    ours, theirs = _mha_pair(torch, batch_first=True)
    x = randn(2, 4, 8)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4)
    out_t, w_t = theirs(*(torch.tensor(x),) * 3, attn_mask=causal, is_causal=True)
    out_o, w_o = ours(*(tge.tensor(x),) * 3, is_causal=True)
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert np.all(np.triu(w_o.numpy()[0], 1) == 0)


@settings(max_examples=4)
@given(data=st.data(), heads=st.sampled_from([1, 2]), bias=st.booleans())
def test_mha_backward(data, heads, bias):
    mha = nn.MultiheadAttention(4, heads, bias=bias, batch_first=True)
    q = data.draw(tensors(shape=(1, data.draw(st.integers(1, 3)), 4)))
    kv = data.draw(tensors(shape=(1, data.draw(st.integers(1, 3)), 4)))
    assert module_gradcheck(mha, q, kv, kv)


def test_mha_dropout_acts_on_the_weights_in_training_only():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = tge.randn(2, 5, 8)
    _, w = mha(x, x, x, average_attn_weights=False)
    kept = w.numpy()[w.numpy() > 0]
    assert (w.numpy() == 0).mean() > 0.2 and kept.max() > 1.0 / 5  # dropped, and the rest scaled by 2
    mha.eval()
    _, w = mha(x, x, x)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-5)


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="must all end with 8 features"):
        nn.MultiheadAttention(8, 2, batch_first=True)(tge.zeros(1, 2, 8), tge.zeros(1, 2, 6), tge.zeros(1, 2, 6))


# ---- Transformer encoder ---------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation):
    torch = pytest.importorskip("torch")
    kwargs = dict(dim_feedforward=16, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first)
    ours, theirs = nn.TransformerEncoderLayer(8, 2, **kwargs), torch.nn.TransformerEncoderLayer(8, 2, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch(ours, theirs)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    ours.eval(), theirs.eval()  # dropout off
    x = randn(2, 5, 8)
    padding = np.zeros((2, 5), dtype=bool)
    padding[1, -2:] = True
    with torch.no_grad():
        want = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(padding)).numpy()
    got = ours(tge.tensor(x), src_key_padding_mask=padding).numpy()
    keep = ~padding  # torch's fast path leaves the padded positions undefined (zeros); compare the rest
    np.testing.assert_allclose(got[keep], want[keep], rtol=1e-4, atol=1e-5)


def test_encoder_matches_torch_and_trains():
    torch = pytest.importorskip("torch")
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2, norm=nn.LayerNorm(8)
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch(ours, theirs)
    x = randn(2, 4, 8)
    xt, xo = torch.tensor(x, requires_grad=True), tge.tensor(x, requires_grad=True)
    yt, yo = theirs(xt, is_causal=False), ours(xo)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    yt.sum().backward()
    yo.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@settings(max_examples=1)
@given(data=st.data())
def test_encoder_layer_backward(norm_first, data):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=3, dropout=0.2, norm_first=norm_first, batch_first=True)
    # rows with distinct values: at a constant row LayerNorm divides by √ε, and two of them in a row
    # curve so sharply that finite differences with a step of 1e-6 are no longer accurate
    x = data.draw(tensors(shape=(1, 2, 4), unique=True, elements=st.integers(-30, 30).map(lambda i: i / 10)))
    assert module_gradcheck(layer, x, seed=3)


@pytest.mark.parametrize("mask_shape", [(3, 3), (2, 4, 5), (5, 4, 4)])
def test_sdpa_mask_of_the_wrong_shape_names_the_op_and_both_shapes(mask_shape):
    q = tge.randn(2, 4, 8)
    mask = tge.ones(*mask_shape, dtype=tge.bool)
    with pytest.raises(RuntimeError, match=r"scaled_dot_product_attention.*\(2, 4, 4\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mask)


def test_sdpa_mask_that_broadcasts_is_accepted():
    q = tge.randn(2, 4, 8)
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=tge.ones(4, 4, dtype=tge.bool))
    assert out.shape == (2, 4, 8)
