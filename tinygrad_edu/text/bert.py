"""A tiny BERT (Devlin et al., 2019) from the library's own layers: embeddings, a Transformer encoder, two heads.

    config = BertConfig(vocab_size=len(tok), max_length=32)        # d_model 64, 2 layers, 4 heads
    mlm = BertForMaskedLM(config)                                  # pretraining: predict hidden tokens
    inputs, labels = mask_tokens(batch["input_ids"], tok)          # 15 % of tokens hidden, labels -100 elsewhere
    loss = F.cross_entropy(mlm(inputs).reshape(-1, len(tok)), labels.reshape(-1), ignore_index=-100)
    tge.save(mlm.state_dict(), "mlm.npz")
    clf = BertClassifier(config, num_classes=2)
    clf.bert.load_state_dict(mlm.bert.state_dict())                # transfer: start from the pretrained encoder

The encoder sums three embeddings per position, normalises, and runs ``num_layers`` encoder layers:

    h⁰ = LayerNorm(E_token[x_t] + E_position[t] + E_segment[s_t]),     h = TransformerEncoder(h⁰)

with ``batch_first=True`` (inputs (N, L); PyTorch's TransformerEncoderLayer defaults to
(L, N, d)) and a key-padding mask from ``attention_mask`` so no position attends to ``<pad>``.

The masked-LM head maps each h_t to scores over the vocabulary through the token embedding
itself (weight tying): logits_t = LayerNorm(gelu(W h_t + c)) · E_tokenᵀ + b, so a word's input
vector and output vector are one parameter, which gets gradients from both uses. The
classification head reads the vector of the first position, ``<cls>``: logits = W_c h_0 + b_c.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from .. import random as tge_random
from ..nn import functional as F
from ..nn import init
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .tokenizer import CLS, MASK, PAD, SEP, SPECIAL_TOKENS, Tokenizer


@dataclass
class BertConfig:
    """The sizes of a BERT: BERT-base is (d_model 768, 12 layers, 12 heads, feed-forward 3072); ours is tiny."""

    vocab_size: int
    max_length: int = 32
    d_model: int = 64
    num_layers: int = 2
    num_heads: int = 4
    dim_feedforward: int = 128
    dropout: float = 0.1
    type_vocab_size: int = 2
    pad_token_id: int = 0


class BertEncoder(nn.Module):
    """Token ids (N, L) → contextual vectors (N, L, d_model); see the module docstring for the equations."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.token_embeddings = nn.Embedding(config.vocab_size, d, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_length, d)
        self.segment_embeddings = nn.Embedding(config.type_vocab_size, d)
        for emb in (self.token_embeddings, self.position_embeddings, self.segment_embeddings):
            init.normal_(emb.weight, std=0.02)  # BERT's initialisation (nn.Embedding's N(0, 1) is too wide here)
        self.token_embeddings.weight.array[config.pad_token_id] = 0
        self.norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            d, config.num_heads, config.dim_feedforward, config.dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Any = None,
        token_type_ids: Tensor | None = None,
        output_attentions: bool = False,
    ) -> Any:
        """(N, L) ids → (N, L, d) vectors; with ``output_attentions=True`` also each layer's weights (N, heads, L, L).

        ``attention_mask`` (N, L): 1 for real tokens, 0 for padding (default: ids != ``<pad>``).
        """
        n, length = input_ids.shape
        if length > self.config.max_length:
            raise ValueError(
                f"BertEncoder: {length} tokens, but the position table has {self.config.max_length}; "
                f"tokenize with truncation=True, max_length={self.config.max_length}"
            )
        ids = input_ids.numpy() if isinstance(input_ids, Tensor) else np.asarray(input_ids)
        if attention_mask is None:
            keep = ids != self.config.pad_token_id
        else:
            keep = (attention_mask.numpy() if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)) != 0
        segments = Tensor(np.zeros((n, length), dtype=np.int64)) if token_type_ids is None else token_type_ids
        positions = Tensor(np.arange(length, dtype=np.int64))
        x = self.token_embeddings(input_ids) + self.position_embeddings(positions) + self.segment_embeddings(segments)
        x = self.dropout(self.norm(x))
        padding = ~keep  # MultiheadAttention: True marks keys that may not be attended to
        if not output_attentions:
            return self.encoder(x, src_key_padding_mask=padding)
        attentions = []
        for layer in self.encoder.layers:  # the same computation, with each layer's attention weights kept
            weights = layer.self_attn(x, x, x, key_padding_mask=padding, average_attn_weights=False)[1]
            attentions.append(weights)
            x = layer(x, src_key_padding_mask=padding)
        return (x if self.encoder.norm is None else self.encoder.norm(x)), attentions


class BertForMaskedLM(nn.Module):
    """The encoder plus the masked-language-model head, tied to the token embedding: logits (N, L, vocab_size)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertEncoder(config)
        self.transform = nn.Linear(config.d_model, config.d_model)
        self.transform_norm = nn.LayerNorm(config.d_model)
        self.bias = Parameter(np.zeros(config.vocab_size, dtype=np.float32))

    def forward(self, input_ids: Tensor, attention_mask: Any = None, token_type_ids: Tensor | None = None) -> Tensor:
        """logits_t = LayerNorm(gelu(W h_t + c)) · E_tokenᵀ + b for every position t."""
        h = self.bert(input_ids, attention_mask, token_type_ids)
        h = self.transform_norm(F.gelu(self.transform(h)))
        return F.linear(h, self.bert.token_embeddings.weight, self.bias)  # tied: the token embedding, transposed


class BertClassifier(nn.Module):
    """The encoder plus a linear classifier on the ``<cls>`` vector: logits (N, num_classes)."""

    def __init__(self, config: BertConfig, num_classes: int = 2) -> None:
        super().__init__()
        self.config = config
        self.bert = BertEncoder(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.d_model, num_classes)

    def forward(self, input_ids: Tensor, attention_mask: Any = None, token_type_ids: Tensor | None = None) -> Tensor:
        """logits = W_c · dropout(h_0) + b_c, h_0 the output vector at the first position (``<cls>``)."""
        h = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(self.dropout(h[:, 0]))


def mask_tokens(
    input_ids: Tensor | np.ndarray,
    tokenizer: Tokenizer,
    mlm_probability: float = 0.15,
    rng: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """BERT's masking: (inputs, labels) for masked-language modelling, both int64 (N, L).

    Each token that is not ``<pad>``, ``<cls>``, ``<sep>`` is chosen with probability
    ``mlm_probability`` (a batch with none chosen gets one, so the loss is never 0/0). A
    chosen token becomes ``<mask>`` 80 % of the time, a random word 10 %, stays itself 10 %
    (so the model cannot assume an unmasked token is right). ``labels`` hold the original id at
    chosen positions and −100 elsewhere, which ``F.cross_entropy(..., ignore_index=-100)`` skips.
    """
    rng = tge_random.generator() if rng is None else rng
    ids = np.array(input_ids.numpy() if isinstance(input_ids, Tensor) else input_ids, dtype=np.int64)
    special = np.isin(ids, [tokenizer.vocab.stoi[t] for t in (PAD, CLS, SEP)])
    chosen = (rng.random(ids.shape) < mlm_probability) & ~special
    if not chosen.any() and (~special).any():  # a batch with nothing to predict: choose one token
        chosen.flat[rng.choice(np.flatnonzero(~special))] = True
    labels = np.where(chosen, ids, -100)
    draw = rng.random(ids.shape)
    masked = chosen & (draw < 0.8)
    randomised = chosen & (draw >= 0.8) & (draw < 0.9)
    ids[masked] = tokenizer.vocab.stoi[MASK]
    words = rng.integers(len(SPECIAL_TOKENS), len(tokenizer.vocab), size=ids.shape)  # random non-special words
    ids[randomised] = words[randomised]
    return Tensor(ids), Tensor(labels)
