"""Recurrent networks: the LSTM and GRU steps' written-out backward against gradcheck and against the same
cell composed from primitive ops; RNN/LSTM/GRU and their cells against PyTorch with copied weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.ops.rnn import GRUCell, LSTMCell

from ..strategies import arrays
from .helpers import load_torch, module_gradcheck, randn


def _lstm_composed(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The LSTM step from primitives: the reference the written-out backward must agree with."""
    a = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    i, f, g, o = a.chunk(4, dim=1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return tge.stack([o.sigmoid() * c2.tanh(), c2])


def _gru_composed(x, h, w_ih, w_hh, b_ih, b_hh):
    gi_r, gi_z, gi_n = F.linear(x, w_ih, b_ih).chunk(3, dim=1)
    gh_r, gh_z, gh_n = F.linear(h, w_hh, b_hh).chunk(3, dim=1)
    r, z = (gi_r + gh_r).sigmoid(), (gi_z + gh_z).sigmoid()
    n = (gi_n + r * gh_n).tanh()
    return (1 - z) * n + z * h


@st.composite
def _cell_inputs(draw, gates):
    n, i, h = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = [(n, i), (n, h)] + ([(n, h)] if gates == 4 else []) + [(gates * h, i), (gates * h, h)]
    ts = [tge.tensor(draw(arrays(s, transposed=False)), requires_grad=True) for s in shapes]
    bias = draw(st.booleans())
    bs = [tge.tensor(draw(arrays((gates * h,), transposed=False)), requires_grad=True) for _ in range(2)]
    return ts + (bs if bias else [None, None])


@settings(max_examples=25, deadline=None)
@given(_cell_inputs(4))
def test_lstm_cell_backward_gradcheck_and_composed(args):
    assert tge.gradcheck(lambda *a: LSTMCell.apply(*a), args)
    ours = LSTMCell.apply(*args)
    ref = _lstm_composed(*args)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    dy = np.random.default_rng(0).standard_normal(ours.shape)
    leaves = [a for a in args if a is not None]
    grads = []
    for out in (ours, ref):
        for t in leaves:
            t.grad = None
        out.backward(tge.tensor(dy))
        grads.append([t.grad.numpy() for t in leaves])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(_cell_inputs(3))
def test_gru_cell_backward_gradcheck_and_composed(args):
    assert tge.gradcheck(lambda *a: GRUCell.apply(*a), args)
    ours, ref = GRUCell.apply(*args), _gru_composed(*args)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    dy = np.random.default_rng(1).standard_normal(ours.shape)
    leaves = [a for a in args if a is not None]
    grads = []
    for out in (ours, ref):
        for t in leaves:
            t.grad = None
        out.backward(tge.tensor(dy))
        grads.append([t.grad.numpy() for t in leaves])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_lstm_cell_known_values():
    """All weights zero: every gate is σ(0) = ½ and g = tanh(0) = 0, so c' = c/2 and h' = ½ tanh(c/2)."""
    cell = nn.LSTMCell(2, 3)
    for p in cell.parameters():
        nn.init.zeros_(p)
    c = tge.tensor([[1.0, -2.0, 4.0]])
    h2, c2 = cell(tge.zeros(1, 2), (tge.zeros(1, 3), c))
    np.testing.assert_allclose(c2.numpy(), [[0.5, -1.0, 2.0]])
    np.testing.assert_allclose(h2.numpy(), 0.5 * np.tanh([[0.5, -1.0, 2.0]]), rtol=1e-6)


def test_parameter_names_and_init_range():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4:8] == ["weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert lstm.weight_ih_l1.shape == (20, 10) and lstm.weight_hh_l1_reverse.shape == (20, 5)
    bound = 1 / np.sqrt(5)
    for p in lstm.parameters():
        assert np.abs(p.numpy()).max() <= bound
    assert np.abs(lstm.weight_ih_l0.numpy()).max() > 0.5 * bound
    assert nn.GRU(2, 4, bias=False).weight_hh_l0.shape == (12, 4) and "bias_ih_l0" not in dict(
        nn.GRU(2, 4, bias=False).named_parameters()
    )
    assert "LSTM(3, 5, num_layers=2, bidirectional=True)" == repr(lstm)


# ---- against PyTorch ----------------------------------------------------------------------------

CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True, bias=False),
]


def _pair(torch, kind, **kw):
    torch.manual_seed(0)  # PyTorch draws the weights we copy: seeded, so a run is repeatable
    ours, theirs = getattr(nn, kind)(3, 4, **kw), getattr(torch.nn, kind)(3, 4, **kw)
    load_torch(ours, theirs)
    return ours, theirs


def _compare_grads(torch, ours, theirs, x_ours, x_theirs, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=rtol, atol=atol)
    for (name, p), (name_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        np.testing.assert_allclose(p.grad.numpy(), p_t.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_sequence_layers_match_torch(kind, kw, with_state):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, kind, **kw)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    shape = (2, 5, 3) if kw.get("batch_first") else (5, 2, 3)
    xa = randn(*shape)
    x, xt = tge.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    hx = hxt = None
    if with_state:
        h0, c0 = randn(layers, 2, 4, seed=1), randn(layers, 2, 4, seed=2)
        if kind == "LSTM":
            hx, hxt = (tge.tensor(h0), tge.tensor(c0)), (torch.tensor(h0), torch.tensor(c0))
        else:
            hx, hxt = tge.tensor(h0), torch.tensor(h0)
    out, state = ours(x, hx)
    out_t, state_t = theirs(xt, hxt)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    states = state if kind == "LSTM" else (state,)
    states_t = state_t if kind == "LSTM" else (state_t,)
    for s, st_ in zip(states, states_t):
        np.testing.assert_allclose(s.numpy(), st_.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = randn(*out.shape, seed=3)
    loss = (out * tge.tensor(w)).sum() + states[-1].sum()
    loss_t = (out_t * torch.tensor(w)).sum() + states_t[-1].sum()
    loss.backward()
    loss_t.backward()
    _compare_grads(torch, ours, theirs, x, xt)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_sequence_matches_torch(kind):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, kind, num_layers=2)
    xa = randn(6, 3)
    out, _ = ours(tge.tensor(xa))
    out_t, _ = theirs(torch.tensor(xa))
    assert out.shape == (6, 4)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_lstm_proj_size_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LSTM(3, 5, proj_size=2, num_layers=2), torch.nn.LSTM(3, 5, proj_size=2, num_layers=2)
    load_torch(ours, theirs)
    xa = randn(4, 2, 3)
    out, (h, c) = ours(tge.tensor(xa))
    out_t, (h_t, c_t) = theirs(torch.tensor(xa))
    assert out.shape == (4, 2, 2) and h.shape == (2, 2, 2) and c.shape == (2, 2, 5)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4)
    load_torch(ours, theirs)
    xa, ha, ca = randn(2, 3), randn(2, 4, seed=1), randn(2, 4, seed=2)
    x, xt = tge.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    if kind == "LSTMCell":
        h, c = ours(x, (tge.tensor(ha), tge.tensor(ca)))
        h_t, c_t = theirs(xt, (torch.tensor(ha), torch.tensor(ca)))
        (h.sum() + (c * c).sum()).backward()
        (h_t.sum() + (c_t * c_t).sum()).backward()
    else:
        h, h_t = ours(x, tge.tensor(ha)), theirs(xt, torch.tensor(ha))
        (h * h).sum().backward()
        (h_t * h_t).sum().backward()
    np.testing.assert_allclose(h.numpy(), h_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    _compare_grads(torch, ours, theirs, x, xt)
    # unbatched, no state
    out = ours(tge.tensor(xa[0]))
    out_t = theirs(torch.tensor(xa[0]))
    first, first_t = (out[0], out_t[0]) if kind == "LSTMCell" else (out, out_t)
    np.testing.assert_allclose(first.numpy(), first_t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_rnn_relu_and_dropout_between_layers():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, "RNN", nonlinearity="relu", num_layers=2)
    xa = randn(3, 2, 3)
    want = theirs(torch.tensor(xa))[0].detach().numpy()
    np.testing.assert_allclose(ours(tge.tensor(xa))[0].numpy(), want, rtol=1e-5, atol=1e-6)
    rnn = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    tge.manual_seed(0)
    a = rnn(tge.tensor(xa))[0].numpy()
    tge.manual_seed(1)
    b = rnn(tge.tensor(xa))[0].numpy()
    assert not np.allclose(a, b)  # training: the mask between the layers differs
    rnn.eval()
    np.testing.assert_array_equal(rnn(tge.tensor(xa))[0].numpy(), rnn(tge.tensor(xa))[0].numpy())


def test_gru_module_gradcheck():
    gru = nn.GRU(2, 3, num_layers=2, bidirectional=True)
    x = tge.tensor(randn(3, 2, 2, dtype=np.float64), requires_grad=True)
    assert module_gradcheck(gru, x)


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"input_size=3"):
        nn.LSTM(3, 4)(tge.zeros(5, 2, 6))
    with pytest.raises(ValueError, match=r"hidden state of shape \(1, 2, 4\)"):
        nn.GRU(3, 4)(tge.zeros(5, 2, 3), tge.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        nn.LSTMCell(3, 4)(tge.zeros(2, 5))


def test_lstm_learns_to_remember_the_first_input():
    """A tiny LSTM trained with Adam recalls the sign of x_0 after 6 steps of noise."""
    tge.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = nn.LSTM(1, 8, batch_first=True), nn.Linear(8, 1)
    opt = tge.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    for _ in range(60):
        x = rng.standard_normal((32, 6, 1)).astype(np.float32)
        y = (x[:, 0, 0] > 0).astype(np.float32)
        out, _ = lstm(tge.tensor(x))
        loss = F.binary_cross_entropy_with_logits(head(out[:, -1]).squeeze(-1), tge.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False}])
def test_flat_weights_bookkeeping_is_pytorchs(name, kw):
    """_flat_weights_names / _all_weights / all_weights, which d2l's init_seq2seq reads to xavier-init a GRU."""
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(3, 4, **kw), getattr(torch.nn, name)(3, 4, **kw)
    assert ours._flat_weights_names == theirs._flat_weights_names and ours._all_weights == theirs._all_weights
    assert [tuple(w.shape) for w in ours._flat_weights] == [tuple(w.shape) for w in theirs._flat_weights]
    assert ours.all_weights[0][0] is ours.weight_ih_l0
