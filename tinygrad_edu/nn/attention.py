"""Attention layers: MultiheadAttention and the Transformer encoder, with PyTorch's parameter names.

Multi-head attention projects the inputs to queries, keys and values (one stacked weight
``in_proj_weight`` (3E, E), as PyTorch stores it), splits the E features into ``num_heads``
heads of E/h features, lets every head attend on its own,

    head = softmax(q kᵀ / √(E/h) + mask) v

and mixes the heads back with ``out_proj``. The attention itself is F.attention: matmuls,
a softmax and an additive mask, so the gradients come from those ops.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dtypes import as_array
from ..tensor import Tensor
from . import functional as F
from . import init
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm
from .parameter import Parameter


def _disallowed_to_additive(mask: Any, like: Tensor) -> Tensor:
    """MultiheadAttention's masks: bool True means "may NOT attend" (the opposite of SDPA's); floats are added."""
    if isinstance(mask, Tensor) and mask.dtype != bool:
        return mask if mask.dtype == like.dtype else mask.to(like.dtype)
    array = mask.array if isinstance(mask, Tensor) else as_array(mask)
    if array.dtype != bool:
        return Tensor(array, dtype=like.dtype, device=like.device)
    return F.additive_mask(~array, like)


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads over inputs of ``embed_dim`` features, as torch.nn.MultiheadAttention.

    Inputs are (L, N, E) by default (PyTorch's ``batch_first=False``), (N, L, E) with
    ``batch_first=True``, or unbatched (L, E). Parameters: ``in_proj_weight`` (3E, E) =
    [W_q; W_k; W_v] (xavier-uniform),
    ``in_proj_bias`` (3E,) (zeros), ``out_proj.weight``/``out_proj.bias`` (the bias zeros), so a
    PyTorch state dict loads unchanged. ``dropout`` applies to the attention weights in training.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=np.float32))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype=np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, x: Tensor, i: int) -> Tensor:
        """x (N, T, E) → the i-th projection (0: q, 1: k, 2: v), split into heads: (N, h, T, E/h)."""
        e = self.embed_dim
        w = self.in_proj_weight[i * e : (i + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[i * e : (i + 1) * e]
        n, t, _ = x.shape
        return F.linear(x, w, b).reshape(n, t, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(output, attention weights): output like ``query``; weights (N, L, S), averaged over heads.

        ``key_padding_mask`` (N, S): True marks keys to ignore (padding). ``attn_mask`` (L, S) or
        (N·num_heads, L, S): True marks pairs that may not attend, or floats to add to the scores.
        ``is_causal=True`` without an ``attn_mask`` makes the causal mask (query i sees keys 0..i).
        A query left with no key to attend to gets zeros (PyTorch's MultiheadAttention gives nan).
        """
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: expected a 2-D or 3-D query, got shape {query.shape}")
        batched = query.ndim == 3
        if not batched:  # (L, E): a batch of one
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = as_array(key_padding_mask)[None]
        elif not self.batch_first:  # (L, N, E) → (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        n, length, e = query.shape
        source = key.shape[1]
        if e != self.embed_dim or key.shape[-1] != e or value.shape[-1] != e or value.shape[1] != source:
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}): query {query.shape}, key {key.shape} and value "
                f"{value.shape} must all end with {self.embed_dim} features, and key and value share their length"
            )

        mask = None
        if attn_mask is None and is_causal:
            attn_mask = ~np.tril(np.ones((length, source), dtype=bool))
        if attn_mask is not None:
            mask = _disallowed_to_additive(attn_mask, query)
            if mask.ndim == 3:  # (N·h, L, S) → (N, h, L, S)
                mask = mask.reshape(n, self.num_heads, length, source)
        if key_padding_mask is not None:
            padding = _disallowed_to_additive(key_padding_mask, query).reshape(n, 1, 1, source)
            mask = padding if mask is None else mask + padding

        q, k, v = self._project(query, 0), self._project(key, 1), self._project(value, 2)
        dropout_p = self.dropout if self.training else 0.0
        heads, weights = F.attention(q, k, v, mask, dropout_p)  # (N, h, L, E/h), (N, h, L, S)
        out = self.out_proj(heads.transpose(1, 2).reshape(n, length, e))

        if not batched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, (weights.mean(-3) if average_attn_weights else weights)

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"activation should be 'relu' or 'gelu' (or a callable), not {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each wrapped in a residual connection and a LayerNorm.

    norm_first=False (post-norm, the original Transformer and PyTorch's default):
        x = norm1(x + dropout1(self_attn(x)));   x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))
    norm_first=True (pre-norm, easier to train deep):
        x = x + dropout1(self_attn(norm1(x)));   x = x + dropout2(linear2(dropout(act(linear1(norm2(x))))))

    Submodule names are PyTorch's (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1,
    dropout2), so its state dict loads here. Inputs are (L, N, d_model) unless ``batch_first=True``
    (N, L, d_model), PyTorch's default.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None, is_causal: bool = False
    ) -> Tensor:
        """One encoder layer over src (L, N, d_model), or (N, L, d_model) if batch_first; masks as in MHA."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of an encoder layer applied in turn (``layers.0``, ``layers.1``, ...), then ``norm``.

    Each copy starts from the same initial weights as ``encoder_layer`` (deep copies), as in PyTorch.
    ``enable_nested_tensor`` and ``mask_check`` (PyTorch's fast-path switches) are accepted and change nothing.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None, is_causal: bool = False
    ) -> Tensor:
        """src through every layer, then the final norm if there is one."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return x if self.norm is None else self.norm(x)
