"""Losses: cross_entropy, nll_loss, binary_cross_entropy(_with_logits), mse_loss.

Each works from the stable formula: cross-entropy from logits through log-sum-exp, BCE with
logits through log(1 + e^−|x|), BCE on probabilities with its logs clamped at −100 as PyTorch
does. ``reduction`` is "mean" (the default), "sum" or "none" (one loss per sample).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..device import to_device, xp_of
from .activation import sigmoid_array
from .reduce import log_softmax_array

if TYPE_CHECKING:
    from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: Tensor, reduction: str, op: str, total: Any = None) -> Tensor:
    """Apply the reduction; ``total`` overrides the count a mean divides by (weights, ignore_index)."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean() if total is None else losses.sum() / total
    raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _same_shape(x: Tensor, y: Tensor, op: str) -> None:
    """Input and target of an elementwise loss must match: broadcasting them is almost always a bug."""
    if x.shape != y.shape:
        raise ValueError(
            f"{op}: input shape {x.shape} and target shape {y.shape} differ. Broadcasting them would "
            f"compare every input with every target; reshape one, e.g. target.view({', '.join(map(str, x.shape))})."
        )


def _class_targets(logits: Tensor, target: Tensor, op: str, ignore_index: int) -> None:
    """Check that target holds class indices that fit the logits (N, C, ...) or (C,)."""
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold class indices (an integer tensor, e.g. target.long()), got {target.dtype}. "
            "If you have one-hot rows, pass target.argmax(dim=1)."
        )
    class_dim = 1 if logits.ndim > 1 else 0
    expected = logits.shape[:class_dim] + logits.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(f"{op}: logits of shape {logits.shape} need a target of shape {expected}, got {target.shape}")
    n_classes = logits.shape[class_dim]
    t = target.array
    out_of_range = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if out_of_range.any():  # one scalar read; the bad values are fetched only to name one
        bad = target.numpy()[to_device(out_of_range, "cpu")]
        raise IndexError(
            f"{op}: target holds class {int(bad.flat[0])}, but the logits have {n_classes} classes "
            f"(valid targets: 0..{n_classes - 1})"
        )


def _rows(x: Any, class_dim: int) -> Any:
    """(N, C, d1, ...) -> (N·d1·..., C): one row of class scores per prediction."""
    if x.ndim == 1:
        return x[None, :]
    return xp_of(x).moveaxis(x, class_dim, -1).reshape(-1, x.shape[class_dim])


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x against class targets t, one loss per row.

    With p = softmax(x) and the target distribution q (one-hot at t; with label smoothing ε,
    q = (1 − ε)·onehot(t) + ε/C), optionally weighted per class (a = q ⊙ w):

        loss = −Σ_c a_c · log p_c           (log p = x − logsumexp(x): no overflow, no log 0)
        dx   = dloss · (p · Σ_c a_c − a)    (= dloss · (softmax(x) − onehot(t)) in the plain case)

    Rows whose target is ``ignore_index`` get a = 0: no loss, no gradient.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing):
        xp = xp_of(x)
        rows = _rows(x, 1)
        n, c = rows.shape
        t = target.reshape(-1)
        keep = t != ignore_index
        a = xp.zeros((n, c), dtype=x.dtype)
        a[xp.arange(n)[keep], t[keep]] = 1.0 - label_smoothing
        a += (label_smoothing / c) * keep[:, None]
        if weight is not None:
            a *= weight
        logp = log_softmax_array(rows, 1)
        ctx.save_for_backward(logp, a)
        ctx.x_shape = x.shape
        return -(a * logp).sum(axis=1).reshape(target.shape)

    @staticmethod
    def backward(ctx, dloss):
        logp, a = ctx.saved_tensors
        xp = xp_of(logp)
        p = xp.exp(logp)
        drows = dloss.reshape(-1, 1) * (p * a.sum(axis=1, keepdims=True) - a)
        if len(ctx.x_shape) == 1:
            return drows[0], None, None, None, None
        moved = drows.reshape(*(ctx.x_shape[:1] + ctx.x_shape[2:]), ctx.x_shape[1])
        return xp.moveaxis(moved, -1, 1), None, None, None, None


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits (N, C) (or (N, C, d1, ...), or (C,)) and class indices (N, ...).

    Equal to nll_loss(log_softmax(x, 1), t) but computed in one stable step; its gradient is
    softmax(x) − onehot(t). "mean" divides by the number of targets (their total weight when
    ``weight`` is given), as PyTorch does.
    """
    _class_targets(input, target, "cross_entropy", ignore_index)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    w = None if weight is None else weight.array
    losses = CrossEntropy.apply(input, target.array, w, ignore_index, label_smoothing)
    t = target.array
    keep = t != ignore_index
    total = keep.sum() if w is None else w[t[keep]].sum()  # stays on the device: no sync per step
    return _reduce(losses, reduction, "cross_entropy", xp_of(t).asarray(total, dtype=input.dtype))


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: loss_i = −w[t_i] · x[i, t_i], for log-probabilities x (N, C).

    Composed from indexing (whose backward scatters −w into the picked entries).
    """
    _class_targets(input, target, "nll_loss", ignore_index)
    xp = xp_of(input.array)
    class_dim = 1 if input.ndim > 1 else 0
    rows = input.movedim(class_dim, -1).reshape(-1, input.shape[class_dim]) if input.ndim > 1 else input[None]
    t = target.array.reshape(-1)
    keep = t != ignore_index
    t_safe = xp.where(keep, t, 0)
    w = xp.ones(input.shape[class_dim], dtype=input.dtype) if weight is None else weight.array
    wt = w[t_safe] * keep
    losses = -rows[xp.arange(len(t)), t_safe] * wt.astype(input.dtype)
    return _reduce(losses.reshape(target.shape), reduction, "nll_loss", wt.sum().astype(input.dtype))


class BinaryCrossEntropy(Function):
    """loss = −(y · log p + (1 − y) · log(1 − p)), each log clamped at −100 (PyTorch's rule)

    dp = dloss · (p − y) / max(p(1 − p), 1e−12), so p = 0 or 1 gives a large but finite gradient.
    """

    @staticmethod
    def forward(ctx, p, y):
        xp = xp_of(p)
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log(1 - p), -100)
        ctx.save_for_backward(p, y)
        return -(y * log_p + (1 - y) * log_1mp)

    @staticmethod
    def backward(ctx, dloss):
        p, y = ctx.saved_tensors
        return dloss * (p - y) / xp_of(p).maximum(p * (1 - p), 1e-12), None


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy between probabilities in [0, 1] and targets in [0, 1], same shape."""
    _same_shape(input, target, "binary_cross_entropy")
    p = input.array
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1] (found values from "
            f"{float(p.min()):.4g} to {float(p.max()):.4g}). Apply .sigmoid() first, or pass the "
            "logits to binary_cross_entropy_with_logits, which is also more stable."
        )
    losses = BinaryCrossEntropy.apply(input, target.array.astype(input.dtype, copy=False))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy")


class BCEWithLogits(Function):
    """Binary cross-entropy of sigmoid(x) against y, from the logits x, never forming log 0.

    loss = (1 − y)·x + L·softplus(−x),  L = 1 + (pos_weight − 1)·y,  softplus(−x) = max(−x, 0) + log(1 + e^−|x|)
    dx   = dloss · (L · σ(x) − pos_weight · y)            (= dloss · (σ(x) − y) when pos_weight = 1)
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        xp = xp_of(x)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        big_l = 1 + (pos_weight - 1) * y
        ctx.save_for_backward(x, y, big_l)
        ctx.pos_weight = pos_weight
        return ((1 - y) * x + big_l * softplus_neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dloss):
        x, y, big_l = ctx.saved_tensors
        return (
            (dloss * (big_l * sigmoid_array(x) - ctx.pos_weight * y)).astype(x.dtype, copy=False),
            None,
            None,
        )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits (sigmoid folded in): stable for logits of any size."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    y = target.array.astype(input.dtype, copy=False)
    pw = 1.0 if pos_weight is None else pos_weight.array.astype(input.dtype, copy=False)
    losses = BCEWithLogits.apply(input, y, pw)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: loss_i = (x_i − y_i)², composed from sub and mul (dx = 2(x − y)·dloss)."""
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")
