"""Attention as a composition of Tensor ops: softmax(q kᵀ/√E + mask) v, and the masks that feed it.

``F.scaled_dot_product_attention`` is PyTorch's function; ``attention`` also returns the weights (what
``nn.MultiheadAttention`` shows with ``need_weights=True``); ``additive_mask`` turns a bool mask into −inf/0.
Their gradients come from the matmuls and the softmax: nothing here needs a Function of its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..device import to_device, xp_of
from ..dtypes import as_array
from ..ops.elementwise import broadcast_shape
from ..tensor import Tensor
from ..tensor_shape import where


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last axis, giving zeros (not 0/0 = nan) on rows that are entirely −inf.

    A row is entirely −inf when a query may attend to no key at all (every key masked); PyTorch's
    scaled_dot_product_attention also returns zeros there.
    """
    dead = Tensor._wrap(xp_of(scores.array).isneginf(scores.array).all(axis=-1, keepdims=True))
    if not dead.any():
        return scores.softmax(-1)
    return where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))


def attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """out = softmax(q kᵀ · scale + mask) v, and the attention weights (what MultiheadAttention returns).

    q (..., L, E), k (..., S, E), v (..., S, Ev); ``mask`` is additive (0 where allowed, −inf where
    not), broadcast to (..., L, S); ``scale`` defaults to 1/√E, which keeps the scores' variance
    near 1 whatever the width.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if mask is not None:
        scores = scores + mask
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        from .functional import dropout  # (functional imports this file: fetch dropout when it is needed)

        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def additive_mask(allowed: Any, like: Tensor) -> Tensor:
    """A bool mask (True where attention is allowed) as the additive mask 0 / −inf, in ``like``'s dtype and device."""
    allowed = allowed.array if isinstance(allowed, Tensor) else as_array(allowed)
    xp = xp_of(like.array)
    return Tensor._wrap(xp.where(to_device(allowed, like.device), 0.0, -np.inf).astype(like.dtype))


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(q kᵀ / √E + mask) v over the last two axes, as torch's (same argument order).

    ``attn_mask`` (broadcast to (..., L, S)): a bool mask says where attention is *allowed* (True
    = keep); a float mask is added to the scores. ``is_causal=True`` lets query i see keys 0..i
    only (no attn_mask then). A query that may see no key at all gets zeros.
    """
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value {value.shape} "
            "do not fit: need q (..., L, E), k (..., S, E), v (..., S, Ev)"
        )
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((length, source), dtype=bool))  # query i sees keys 0..i
    if attn_mask is not None:  # it must broadcast to the scores' shape (..., L, S): name the op if not
        scores = (*query.shape[:-2], length, source)
        mask_shape = tuple(attn_mask.shape) if hasattr(attn_mask, "shape") else np.shape(attn_mask)
        if (
            len(mask_shape) > len(scores)
            or broadcast_shape(
                "scaled_dot_product_attention (attn_mask against the scores (..., L, S))", scores, mask_shape
            )
            != scores
        ):
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {mask_shape} does not broadcast to the "
                f"attention scores' shape {scores} (..., L queries, S keys)"
            )
    mask = attn_mask
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        attn_mask = as_array(attn_mask)
        mask = None if attn_mask.dtype == bool else Tensor(attn_mask, dtype=query.dtype, device=query.device)
    if attn_mask is not None and attn_mask.dtype == bool:
        mask = additive_mask(attn_mask, query)
    return attention(query, key, value, mask, dropout_p, scale)[0]
