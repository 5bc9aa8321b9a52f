"""The other loss modules and the distance modules, holding their settings and calling nn.functional.

``nn.L1Loss()(x, y)`` is ``F.l1_loss(x, y)``; the formulas are in nn/functional_loss.py.
``reduction`` is "mean" (the default), "sum" or "none" (PyTorch's older ``size_average``/``reduce``
are not taken: write ``reduction=``). CosineSimilarity and PairwiseDistance are not losses
(they reduce nothing) but are built the same way.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .loss import _Loss, _WeightedLoss
from .module import Module


class L1Loss(_Loss):
    """Mean absolute error |x − y|: less swayed by outliers than MSELoss."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """|x − y|, reduced."""
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d²/β for |d| < β, |d| − 0.5β beyond (d = x − y): quadratic near 0, linear in the tails."""

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """smooth_l1(x − y), reduced."""
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """0.5 d² for |d| ≤ δ, δ(|d| − 0.5δ) beyond: δ · SmoothL1Loss(β = δ)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """huber(x − y), reduced."""
        return F.huber_loss(input, target, self.reduction, self.delta)


class MarginRankingLoss(_Loss):
    """max(0, −y (x1 − x2) + margin): y = 1 says x1 should rank higher, y = −1 that x2 should."""

    def __init__(
        self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        """The ranking hinge, reduced."""
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 − cos(x1, x2) for pairs labelled 1, max(0, cos(x1, x2) − margin) for pairs labelled −1."""

    def __init__(
        self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        """The cosine embedding loss, reduced."""
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) − d(a, n) + margin, 0): the anchor nearer the positive than the negative by a margin."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """The triplet hinge, reduced."""
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, reduction=self.reduction
        )


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of counts t ~ Poisson(λ): eˣ − t·x with x = log λ (``log_input``), else λ − t log λ."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        """The Poisson NLL, reduced."""
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """½ (log var + (x − y)² / var) (+ ½ log 2π if ``full``): target ~ N(input, var), var clamped to ≥ eps."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        """The Gaussian NLL, reduced."""
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per sample, −mean over classes of [y log σ(x) + (1 − y) log σ(−x)]: one binary task per label."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The multi-label loss, reduced."""
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class CosineSimilarity(Module):
    """x1·x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``dim`` (default 1)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """cos(x1, x2) along ``dim``."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 − x2 + eps‖_p along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The p-norm distance of each pair of rows."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
