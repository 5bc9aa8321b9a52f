"""More losses and distances of nn.functional, with PyTorch's signatures, argument orders and reductions.

Each is a short composition of Tensor ops (their gradients come with them); the formulas are
PyTorch's, including its small constants (eps) and its choices at the kinks.
``reduction`` is "mean" (the default), "sum" or "none".
"""

from __future__ import annotations

import math
import warnings

from ..tensor import Tensor
from ..tensor_shape import where
from .functional_act import logsigmoid


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated ``size_average=``/``reduce=`` as a ``reduction`` (with its deprecation warning).

    Either one given overrides ``reduction``; a missing one counts as True:
    reduce False → "none"; reduce True and size_average True → "mean"; size_average False → "sum".
    """
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.", stacklevel=3
    )
    return legacy


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (use 'mean', 'sum' or 'none')")


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{op}: target size {target.shape} must be the same as input size {input.shape}")


def _clamp_min(x: Tensor, eps: float) -> Tensor:
    return x.clamp(min=eps)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|x − y|, reduced."""
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d²/β where |d| < β, |d| − 0.5β elsewhere (d = x − y; β = 0 is l1_loss)."""
    _same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    return _reduce(where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction, "smooth_l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d² where |d| ≤ δ, δ(|d| − 0.5δ) elsewhere (= δ · smooth_l1 with β = δ)."""
    _same_shape(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = (input - target).abs()
    return _reduce(where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction, "huber_loss")


def kl_div(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean", log_target: bool = False,
) -> Tensor:  # fmt: skip
    """KL(target ‖ model) with ``input`` the model's *log*-probabilities, PyTorch's order.

    pointwise: t (log t − x)  (0 where t = 0);  with log_target: eᵗ (t − x).
    "batchmean" divides the sum by the batch size (the true KL divergence per sample); "mean"
    divides by the number of elements, as PyTorch.

    Distillation (tinygrad_edu.distillation) calls it as ``kl_div(log_softmax(s / T),
    log_softmax(t / T), reduction="batchmean", log_target=True) · T²``: the student's
    log-probabilities first, the teacher's second, both softened by a temperature T.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        loss = target * where(positive, target, 1.0).log() - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def _norm(x: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    """‖x‖_p along ``dim`` through Tensor.norm, whose gradient at a zero vector is 0 (as PyTorch's),
    where √(Σx²) composed of ops would give √′(0) · 0 = inf · 0 = nan.
    """
    if math.isinf(p):
        return x.abs().amax(dim=dim, keepdim=keepdim)
    return x.norm(p, dim=dim, keepdim=keepdim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + eps‖_p along the last dim (eps keeps the gradient finite when x1 = x2)."""
    return _norm(x1 - x2 + eps, p, -1, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``dim``.

    Computed as PyTorch does, Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)): each vector is made a
    unit vector first, so no product x1·x2 or ‖x1‖·‖x2‖ is formed, which would overflow to inf/inf = nan
    for entries past ~1e19 (float32) where the cosine is an ordinary number. (Where the norm itself
    overflows, the unit vectors are 0 and the cosine 0, PyTorch's result too.)
    """
    n1 = _clamp_min(_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _clamp_min(_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim=dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along ``dim``: unit vectors."""
    return input / _clamp_min(_norm(input, p, dim, keepdim=True), eps)


def triplet_margin_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
    swap: bool = False, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """max(d(a, p) − d(a, n) + margin, 0) with d = pairwise_distance; ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction, "triplet_margin_loss")


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """max(0, −y (x1 − x2) + margin), y = 1 when x1 should rank higher, −1 when x2 should."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction, "margin_ranking_loss")


def poisson_nll_loss(
    input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average: bool | None = None,
    eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """Negative log-likelihood of target ~ Poisson(λ): eˣ − t·x (log_input, x = log λ), or λ − t·log(λ + eps).

    ``full`` adds Stirling's approximation of log(t!), t log t − t + ½ log(2πt), where t > 1.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        big = target > 1
        t = where(big, target, 2.0)
        loss = loss + where(big, t * t.log() - t + 0.5 * (2 * math.pi * t).log(), 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(
    input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """½ (log max(var, eps) + (x − y)² / max(var, eps)) (+ ½ log 2π if full): target ~ N(input, var).

    var may have the input's shape, or one dim fewer / a last dim of 1 (one variance per sample).
    The clamp at eps passes the gradient through unchanged, as PyTorch's (it clamps under no_grad).
    """
    if not isinstance(var, Tensor):
        var = Tensor(float(var), dtype=input.dtype)
    if var.ndim == input.ndim - 1 and var.shape == input.shape[:-1]:
        var = var.unsqueeze(-1)
    if (var.array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1 (cos along the last dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    eps = 1e-12  # PyTorch's: cos = x1·x2 / √((‖x1‖² + ε)(‖x2‖² + ε))
    dot = (input1 * input2).sum(dim=-1)
    cos = dot / (((input1 * input1).sum(dim=-1) + eps) * ((input2 * input2).sum(dim=-1) + eps)).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def multilabel_soft_margin_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """−mean over classes of [y log σ(x) + (1 − y) log σ(−x)] (times ``weight`` per class), per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(dim=-1), reduction, "multilabel_soft_margin_loss")
