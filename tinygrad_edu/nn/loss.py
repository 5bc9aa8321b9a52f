"""Loss modules: thin wrappers that hold a loss's settings and call ops/loss.py.

``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, target)`` is
``F.cross_entropy(logits, target)``. ``reduction`` is "mean" (the default), "sum" or "none".
A class ``weight`` (and BCEWithLogitsLoss's ``pos_weight``) is kept as a buffer, so it moves
with ``to(device)`` and appears in the state dict, as in PyTorch.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .functional_loss import legacy_reduction
from .module import Module


class _Loss(Module):
    """A loss module: ``reduction`` "mean", "sum" or "none"; PyTorch's deprecated ``size_average``/``reduce``
    are mapped onto it (with PyTorch's deprecation warning, see F.legacy_reduction).
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss module with a per-class ``weight`` (a buffer)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,): −log softmax(x)[target].

    ``weight`` (C,) rescales each class; targets equal to ``ignore_index`` add nothing;
    ``label_smoothing`` ε mixes the one-hot target with the uniform distribution.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss of logits ``input`` against class indices ``target``."""
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from LogSoftmax) against class indices."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """−input[i, target[i]], reduced."""
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """Mean squared error (x − y)², for regression."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """(x − y)², reduced."""
        return F.mse_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities p (after a sigmoid) against targets y in [0, 1].

    Prefer BCEWithLogitsLoss on the raw scores: it is the same loss, computed more stably.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """−(y log p + (1 − y) log(1 − p)), reduced."""
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits: sigmoid and BCE in one stable step; ``pos_weight`` weighs positives."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """BCE(σ(x), y), reduced."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class KLDivLoss(Module):
    """KL(target ‖ model) with ``input`` the model's log-probabilities (F.kl_div); reduction may be "batchmean"."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:  # fmt: skip
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"KLDivLoss: reduction must be 'mean', 'sum', 'none' or 'batchmean', got {reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """t (log t − x) pointwise (eᵗ (t − x) with log_target), reduced."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
