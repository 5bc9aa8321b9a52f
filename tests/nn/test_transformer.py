"""The Transformer family against PyTorch with copied weights: PyTorch's default layout (L, N, E), the decoder
layer and stack, the whole encoder–decoder model with masks, and the causal mask."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn

from .helpers import load_torch, module_gradcheck, randn


def test_defaults_are_pytorchs_sequence_first():
    """batch_first=False, as PyTorch: (L, N, E) input attends along L, for every layer that takes it."""
    torch = pytest.importorskip("torch")
    for ours, theirs in [
        (nn.MultiheadAttention(8, 2), torch.nn.MultiheadAttention(8, 2)),
        (nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)),
    ]:
        assert (ours.batch_first if isinstance(ours, nn.MultiheadAttention) else ours.self_attn.batch_first) is False
        load_torch(ours, theirs)
        x = randn(5, 3, 8)  # (L, N, E)
        got = ours(*([tge.tensor(x)] * (3 if isinstance(ours, nn.MultiheadAttention) else 1)))
        with torch.no_grad():
            want = theirs(*([torch.tensor(x)] * (3 if isinstance(ours, nn.MultiheadAttention) else 1)))
        got, want = (got[0], want[0]) if isinstance(got, tuple) else (got, want)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)


def test_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    np.testing.assert_array_equal(m, [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(m, torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    torch = pytest.importorskip("torch")
    kw = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first, batch_first=batch_first, activation="gelu")
    ours, theirs = nn.TransformerDecoderLayer(8, 2, **kw), torch.nn.TransformerDecoderLayer(8, 2, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch(ours, theirs)
    tgt, mem = (randn(2, 4, 8), randn(2, 5, 8, seed=1)) if batch_first else (randn(4, 2, 8), randn(5, 2, 8, seed=1))
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    t, m = tge.tensor(tgt, requires_grad=True), tge.tensor(mem, requires_grad=True)
    tt, mt = torch.tensor(tgt, requires_grad=True), torch.tensor(mem, requires_grad=True)
    y = ours(t, m, tgt_mask=mask)
    yt = theirs(tt, mt, tgt_mask=torch.tensor(mask.numpy()))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = randn(*y.shape, seed=2)
    (y * tge.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(m.grad.numpy(), mt.grad.numpy(), rtol=1e-3, atol=1e-5)
    for (name, p), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_transformer_matches_torch_with_masks():
    torch = pytest.importorskip("torch")
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0)
    ours, theirs = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    load_torch(ours, theirs)
    src, tgt = randn(6, 2, 8), randn(4, 2, 8, seed=1)
    src_pad = np.zeros((2, 6), dtype=bool)
    src_pad[1, -2:] = True
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    y = ours(
        tge.tensor(src),
        tge.tensor(tgt),
        tgt_mask=tgt_mask,
        src_key_padding_mask=src_pad,
        memory_key_padding_mask=src_pad,
    )
    with torch.no_grad():
        yt = theirs(
            torch.tensor(src),
            torch.tensor(tgt),
            tgt_mask=torch.tensor(tgt_mask.numpy()),
            src_key_padding_mask=torch.tensor(src_pad),
            memory_key_padding_mask=torch.tensor(src_pad),
        )
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-4, atol=1e-5)


def test_transformer_init_is_xavier_and_errors():
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.numpy()  # (32, 16): xavier bound √(6/48)
    assert np.abs(w).max() <= np.sqrt(6 / 48) and np.abs(w).max() > 0.8 * np.sqrt(6 / 48)
    with pytest.raises(RuntimeError, match="batch number"):
        model(tge.zeros(3, 2, 16), tge.zeros(3, 4, 16))
    with pytest.raises(RuntimeError, match="d_model=16"):
        model(tge.zeros(3, 2, 8), tge.zeros(3, 2, 8))


def test_decoder_gradcheck():
    layer = nn.TransformerDecoderLayer(4, 2, dim_feedforward=6, dropout=0.0, batch_first=True)
    rng = np.random.default_rng(0)
    tgt = tge.tensor(rng.permutation(8).reshape(1, 2, 4) / 4.0, requires_grad=True)
    mem = tge.tensor(rng.standard_normal((1, 3, 4)), requires_grad=True)
    assert module_gradcheck(layer, tgt, mem)


def test_a_tiny_transformer_learns_to_copy():
    """Encoder–decoder with teacher forcing and the causal mask learns to copy a 5-token sequence."""
    tge.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, length, d = 6, 5, 16
    emb, pos, head = nn.Embedding(vocab + 1, d), nn.Embedding(length + 1, d), nn.Linear(d, vocab)
    model = nn.Transformer(d, 2, 1, 1, 32, dropout=0.0, batch_first=True)
    params = [*model.parameters(), *emb.parameters(), *pos.parameters(), *head.parameters()]
    opt = tge.optim.Adam(params, lr=5e-3)
    mask = nn.Transformer.generate_square_subsequent_mask(length)
    positions = tge.tensor(np.arange(length))
    for _ in range(150):
        seq = rng.integers(0, vocab, size=(32, length))
        start = np.full((32, 1), vocab)  # the start token
        src = emb(tge.tensor(seq)) + pos(positions)
        tgt = emb(tge.tensor(np.concatenate([start, seq[:, :-1]], 1))) + pos(positions)
        logits = head(model(src, tgt, tgt_mask=mask))
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), tge.tensor(seq.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3


def test_a_transformer_learns_a_toy_translation_and_greedy_decoding_gets_it_right():
    """A learner's first translation model, in PyTorch's default layout (seq, batch, feature): source sentences
    of 'words' 0..7, the target their dictionary translations (a fixed permutation, shifted past BOS/EOS) in
    reverse order. Teacher-forced training, then greedy decoding of unseen sentences, token by token."""
    tge.manual_seed(0)
    rng = np.random.default_rng(0)
    words, length, d = 8, 5, 32
    bos, eos = words, words + 1
    dictionary = rng.permutation(words)

    def translate(src):  # (length, batch) -> (length + 1, batch): reversed, mapped, then EOS
        return np.concatenate([dictionary[src[::-1]], np.full((1, src.shape[1]), eos)], 0)

    src_emb, tgt_emb, pos = nn.Embedding(words, d), nn.Embedding(words + 2, d), nn.Embedding(length + 2, d)
    model = nn.Transformer(d, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64, dropout=0.0)
    head = nn.Linear(d, words + 2)
    params = [*model.parameters(), *src_emb.parameters(), *tgt_emb.parameters(), *pos.parameters(), *head.parameters()]
    opt = tge.optim.Adam(params, lr=2e-3)

    def embed(emb, tokens):
        return emb(tge.tensor(tokens)) * d**0.5 + pos(tge.arange(tokens.shape[0])).unsqueeze(1)

    def decode_logits(memory, tgt_in):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[0])
        return head(model.decoder(embed(tgt_emb, tgt_in), memory, tgt_mask=mask))

    model.train()
    for _ in range(200):
        src = rng.integers(0, words, size=(length, 64))
        tgt = translate(src)
        tgt_in = np.concatenate([np.full((1, 64), bos), tgt[:-1]], 0)
        memory = model.encoder(embed(src_emb, src))
        logits = decode_logits(memory, tgt_in)
        loss = nn.functional.cross_entropy(logits.reshape(-1, words + 2), tge.tensor(tgt.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    model.eval()
    with tge.no_grad():
        src = rng.integers(0, words, size=(length, 200))
        memory = model.encoder(embed(src_emb, src))
        out = np.full((1, 200), bos)
        for _ in range(length + 1):
            nxt = decode_logits(memory, out)[-1].argmax(-1).numpy()
            out = np.concatenate([out, nxt[None]], 0)
    acc = (out[1:] == translate(src)).mean()
    assert acc > 0.95  # 200 steps: 1.0 (a uniform guess: 0.1)
