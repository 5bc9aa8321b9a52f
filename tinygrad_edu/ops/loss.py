"""Losses: cross_entropy, nll_loss, binary_cross_entropy(_with_logits), mse_loss.

Each works from the stable formula: cross-entropy from logits through log-sum-exp, BCE with
logits through log(1 + e^−|x|), BCE on probabilities with its logs clamped at −100 as PyTorch
does. ``reduction`` is "mean" (the default), "sum" or "none" (one loss per sample).
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..device import to_device, xp_of
from ..errors import ShapeError
from ..tensor import Tensor
from ..tensor_shape import where
from .activation import sigmoid_array
from .elementwise import broadcast_shape, unbroadcast
from .reduce import log_softmax_array

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
        raise ShapeError(
            f"{op}: input shape {x.shape} and target shape {y.shape} differ. Broadcasting them would "
            f"compare every input with every target; reshape one, e.g. target.view({', '.join(map(str, x.shape))})."
        )


def _class_count(logits: Tensor) -> int:
    """C, the size of the class axis: axis 1 of (N, C, ...), axis 0 of a single prediction (C,)."""
    return logits.shape[1 if logits.ndim > 1 else 0]


def _class_weight(weight: Tensor | None, logits: Tensor, op: str) -> Any:
    """The per-class weight array (or None), checked to have one entry per class, as PyTorch does."""
    if weight is None:
        return None
    c = _class_count(logits)
    if weight.shape != (c,):
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {c} classes or no classes but got weight "
            f"tensor of shape: {list(weight.shape)} (logits of shape {logits.shape} have {c} classes on axis "
            f"{1 if logits.ndim > 1 else 0})"
        )
    return weight.array.astype(logits.dtype, copy=False)


def _class_targets(logits: Tensor, target: Tensor, op: str, ignore_index: int) -> None:
    """Check that target holds class indices that fit the logits (N, C, ...) or (C,)."""
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold class indices (an integer tensor, e.g. target.long()), got {target.dtype} "
            f"of shape {target.shape}. If you have one-hot rows, pass target.argmax(dim=1)"
            + (f"; class probabilities must have the logits' shape {logits.shape}." if op == "cross_entropy" else ".")
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


def _unrows(rows: Any, shape: tuple[int, ...]) -> Any:
    """The inverse of _rows: (N·d1·..., C) back to (N, C, d1, ...) (or (C,))."""
    if len(shape) == 1:
        return rows[0]
    moved = rows.reshape(*(shape[:1] + shape[2:]), shape[1])
    return xp_of(rows).moveaxis(moved, -1, 1)


def _target_weights(t: Any, c: int, weight: Any, ignore_index: int, label_smoothing: float, dtype: Any) -> Any:
    """a (N, C): how much each class's −log p counts in each row's loss (see CrossEntropy)."""
    xp = xp_of(t)
    n = t.shape[0]
    keep = t != ignore_index
    a = xp.zeros((n, c), dtype=dtype)
    a[xp.arange(n)[keep], t[keep]] = 1.0 - label_smoothing
    a += (label_smoothing / c) * keep[:, None]
    return a if weight is None else a * weight


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x against class targets t, one loss per row.

    With p = softmax(x) and the target distribution q (one-hot at t; with label smoothing ε,
    q = (1 − ε)·onehot(t) + ε/C), optionally weighted per class (a = q ⊙ w):

        loss = −Σ_c a_c · log p_c           (log p = x − logsumexp(x): no overflow, no log 0)
        dx   = dloss · (p · Σ_c a_c − a)    (= dloss · (softmax(x) − onehot(t)) in the plain case)

    Rows whose target is ``ignore_index`` get a = 0 and keep = False: no loss, and a gradient of
    exactly 0 whatever dloss is. (With every target ignored, "mean" is 0/0 = nan and dloss = 1/0 = inf;
    PyTorch still gives those rows 0, not inf · 0 = nan, and so do we.) The sum runs over the
    classes with a_c ≠ 0 only, so a class the target gives no weight never enters: a masked
    logit of −inf (log p = −inf) or logits so far apart that x − max overflows to −inf leave the
    loss finite, where a_c · log p_c would be 0 · (−inf) = nan. (PyTorch's loss is finite there too.)
    """

    @staticmethod
    def forward(ctx, x, a, keep):
        xp = xp_of(x)
        logp = log_softmax_array(_rows(x, 1), 1)
        ctx.save_for_backward(logp, a, keep)
        ctx.x_shape = x.shape
        return -xp.where(a != 0, a * logp, 0).sum(axis=1)

    @staticmethod
    def backward(ctx, dloss):
        logp, a, keep = ctx.saved_tensors
        xp = xp_of(logp)
        total = a.sum(axis=1, keepdims=True)
        p_total = xp.where(total != 0, xp.exp(logp) * total, 0)  # a row of −inf logits with a = 0: exactly 0
        drows = xp.where(keep[:, None], dloss.reshape(-1, 1) * (p_total - a), 0)  # an ignored row: exactly 0
        return _unrows(drows, ctx.x_shape), None, None


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities q (same shape as the logits x), per row:

        a = ((1 − ε) · q + ε/C) ⊙ w,     loss = −Σ_c a_c · log p_c,     p = softmax(x)
        dx = dloss · (p · Σ_c a_c − a),    dq = −dloss · (1 − ε) · w ⊙ log p

    Unlike class indices, every a_c · log p_c enters, as in PyTorch: a class with q_c = 0 and
    log p_c = −inf gives nan (PyTorch's soft-target loss is nan there too).
    """

    @staticmethod
    def forward(ctx, x, q, weight, label_smoothing):
        logp = log_softmax_array(_rows(x, 1), 1)
        c = logp.shape[1]
        a = (1 - label_smoothing) * _rows(q, 1) + label_smoothing / c
        if weight is not None:
            a = a * weight
        ctx.save_for_backward(logp, a, weight)
        ctx.x_shape, ctx.label_smoothing = x.shape, label_smoothing
        return -(a * logp).sum(axis=1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dloss):
        logp, a, weight = ctx.saved_tensors
        d = dloss.reshape(-1, 1)
        dx = _unrows(d * (xp_of(logp).exp(logp) * a.sum(axis=1, keepdims=True) - a), ctx.x_shape)
        dq = None
        if ctx.needs_input_grad[1]:
            w = 1 if weight is None else weight
            dq = _unrows((-(1 - ctx.label_smoothing) * d * w * logp).astype(logp.dtype, copy=False), ctx.x_shape)
        return dx, dq, None, None


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
    softmax(x) − onehot(t). "mean" divides by the number of targets that are not ``ignore_index``
    (their total weight when ``weight`` is given), as PyTorch does; with every target ignored the
    mean is 0/0 = nan, as in PyTorch.

    ``target`` may instead hold class probabilities, a float tensor of the logits' shape (soft
    labels; ops.loss.SoftCrossEntropy): then "mean" divides by the number of predictions,
    ``ignore_index`` does not apply, and the target gets a gradient too.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    w = _class_weight(weight, input, "cross_entropy")
    if target.dtype.kind == "f" and target.shape == input.shape:
        q = target if target.dtype == input.dtype else target.to(input.dtype)
        losses = SoftCrossEntropy.apply(input, q, w, label_smoothing)
        losses = losses.reshape(input.shape[:1] + input.shape[2:] if input.ndim > 1 else ())
        return _reduce(losses, reduction, "cross_entropy")
    _class_targets(input, target, "cross_entropy", ignore_index)
    t = target.array.reshape(-1)
    a = _target_weights(t, _class_count(input), w, ignore_index, label_smoothing, input.dtype)
    keep = t != ignore_index
    losses = CrossEntropy.apply(input, a, keep).reshape(target.shape)
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

    Composed from indexing (whose backward scatters −w into the picked entries) and a where
    that gives ignored rows exactly 0: their picked entry (class 0, a stand-in) may be −inf, and
    −(−inf) · 0 would be nan. "mean" divides by the total weight of the rows that count.
    """
    _class_targets(input, target, "nll_loss", ignore_index)
    w_given = _class_weight(weight, input, "nll_loss")
    xp = xp_of(input.array)
    class_dim = 1 if input.ndim > 1 else 0
    rows = input.movedim(class_dim, -1).reshape(-1, input.shape[class_dim]) if input.ndim > 1 else input[None]
    t = target.array.reshape(-1)
    keep = t != ignore_index
    t_safe = xp.where(keep, t, 0)
    w = xp.ones(input.shape[class_dim], dtype=input.dtype) if w_given is None else w_given
    wt = (w[t_safe] * keep).astype(input.dtype)
    picked = where(Tensor._wrap(keep, device=input.device), rows[xp.arange(len(t)), t_safe], 0.0)
    losses = -picked * wt
    return _reduce(losses.reshape(target.shape), reduction, "nll_loss", wt.sum())


class BinaryCrossEntropy(Function):
    """loss = −(y · log p + (1 − y) · log(1 − p)), each log clamped at −100 (PyTorch's rule)

    dp = dloss · (p − y) / max(p(1 − p), 1e−12), so p = 0 or 1 gives a large but finite gradient.
    dy = dloss · (log(1 − p) − log p) = −dloss · logit(p)     (unclamped, as PyTorch: ±inf at p = 0 or 1)
    """

    @staticmethod
    def forward(ctx, p, y):
        xp = xp_of(p)
        log_p = xp.maximum(xp.log(p), -100)
        log_1mp = xp.maximum(xp.log(1 - p), -100)
        ctx.save_for_backward(p, y)
        return -(y * log_p + (1 - y) * log_1mp)

    @staticmethod
    def backward(ctx, dloss):
        p, y = ctx.saved_tensors
        xp = xp_of(p)
        dp = dloss * (p - y) / xp.maximum(p * (1 - p), 1e-12)
        dy = dloss * (xp.log(1 - p) - xp.log(p)) if ctx.needs_input_grad[1] else None
        return dp, dy


def _weight_fits(weight: Tensor | None, input: Tensor, op: str, name: str = "weight") -> None:
    """A per-element weight must broadcast to the input's shape (it may not enlarge it)."""
    if weight is not None and broadcast_shape(op, input.shape, weight.shape) != input.shape:
        raise RuntimeError(
            f"{op}: {name} of shape {weight.shape} must broadcast to the input's shape {input.shape}, "
            f"but together they make {broadcast_shape(op, input.shape, weight.shape)}"
        )


def _float_target(target: Tensor, input: Tensor) -> Tensor:
    """The target in the input's float dtype (a Tensor, so that it can get a gradient)."""
    return target if target.dtype == input.dtype else target.to(input.dtype)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy between probabilities in [0, 1] and targets in [0, 1], same shape.

    Both get gradients (the target's is −logit(p), as in PyTorch); ``weight`` rescales each
    element's loss and broadcasts to the input's shape.
    """
    _same_shape(input, target, "binary_cross_entropy")
    _weight_fits(weight, input, "binary_cross_entropy")
    p = input.array
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1] (found values from "
            f"{float(p.min()):.4g} to {float(p.max()):.4g}). Apply .sigmoid() first, or pass the "
            "logits to binary_cross_entropy_with_logits, which is also more stable."
        )
    losses = BinaryCrossEntropy.apply(input, _float_target(target, input))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy")


class BCEWithLogits(Function):
    """Binary cross-entropy of sigmoid(x) against y, from the logits x, never forming log 0.

    loss = (1 − y)·x + L·softplus(−x),  L = 1 + (pos_weight − 1)·y,  softplus(−x) = max(−x, 0) + log(1 + e^−|x|)
    dx   = dloss · (L · σ(x) − pos_weight · y)            (= dloss · (σ(x) − y) when pos_weight = 1)
    dy   = dloss · ((pos_weight − 1) · softplus(−x) − x)  (= −dloss · x when pos_weight = 1)
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        xp = xp_of(x)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        big_l = 1 + (pos_weight - 1) * y
        ctx.save_for_backward(x, y, big_l, softplus_neg)
        ctx.pos_weight = pos_weight
        return ((1 - y) * x + big_l * softplus_neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dloss):
        x, y, big_l, softplus_neg = ctx.saved_tensors
        pw = ctx.pos_weight
        dx = (dloss * (big_l * sigmoid_array(x) - pw * y)).astype(x.dtype, copy=False)
        dy = None
        if ctx.needs_input_grad[1]:
            dy = unbroadcast((dloss * ((pw - 1) * softplus_neg - x)).astype(x.dtype, copy=False), y.shape)
        return dx, dy, None


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits (sigmoid folded in): stable for logits of any size.

    ``weight`` rescales each element's loss; ``pos_weight`` (e.g. one per class, shape (C,))
    multiplies the positive term y·log σ(x), broadcasting along the last axes as in PyTorch.
    The target gets a gradient (PyTorch's formula); weight and pos_weight do not.
    """
    op = "binary_cross_entropy_with_logits"
    _same_shape(input, target, op)
    _weight_fits(weight, input, op)
    _weight_fits(pos_weight, input, op, "pos_weight")
    pw = 1.0 if pos_weight is None else pos_weight.array.astype(input.dtype, copy=False)
    losses = BCEWithLogits.apply(input, _float_target(target, input), pw)
    if weight is not None:
        losses = losses * weight.detach()
    return _reduce(losses, reduction, op)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: loss_i = (x_i − y_i)², composed from sub and mul (dx = 2(x − y)·dloss)."""
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")
