"""Early stopping: end training when the validation metric stops improving, and keep the best weights."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor


class EarlyStopping:
    """Stop after ``patience`` epochs without improvement of a validation metric; remember the best weights.

    An epoch improves when (mode "min") metric < best − min_delta, or (mode "max") metric >
    best + min_delta. A NaN metric never improves. ::

        stopper = optim.EarlyStopping(patience=5)
        for epoch in range(100):
            train_one_epoch(model, opt)
            if stopper.step(evaluate(model), model):     # True: time to stop
                break                                    # (the best weights are back in model)
        print(stopper.best, stopper.best_epoch)

    Attributes: ``best`` (the best metric so far), ``best_epoch`` (the index of the ``step()`` call
    that saw it, counting from 0 like ``for epoch in range(...)``), ``counter`` (epochs since then).
    With ``restore_best_weights=True`` the model gets the best weights back when ``step()`` returns
    True; ``restore(model)`` does it at any time. A model is anything with ``state_dict()`` and
    ``load_state_dict()`` (an ``nn.Module``); the weights are copied, not referenced.
    """

    def __init__(
        self, patience: int = 5, min_delta: float = 0.0, mode: str = "min", restore_best_weights: bool = True
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode={mode!r}: use 'min' for a loss or 'max' for an accuracy")
        if patience < 0 or min_delta < 0:
            raise ValueError(f"patience={patience} and min_delta={min_delta} must be ≥ 0")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.counter = 0
        self.epoch = -1
        self.best_state: dict[str, Any] | None = None

    def is_better(self, metric: float) -> bool:
        """Does ``metric`` beat ``best`` by more than ``min_delta``?"""
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float, model: Any = None) -> bool:
        """Record one epoch's metric (and copy the model's weights if it is the best); True means stop."""
        metric = float(metric)
        self.epoch += 1
        if self.is_better(metric):
            self.best, self.best_epoch, self.counter = metric, self.epoch, 0
            if model is not None:
                self.best_state = {name: _copy(value) for name, value in model.state_dict().items()}
            return False
        self.counter += 1
        stop = self.counter >= self.patience
        if stop and self.restore_best_weights and model is not None:
            self.restore(model)
        return stop

    def restore(self, model: Any) -> None:
        """Load the best weights seen so far into ``model``."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no weights kept yet; pass the model to step(metric, model)")
        model.load_state_dict({name: _copy(value) for name, value in self.best_state.items()})


def _copy(value: Any) -> Any:
    """A copy of one state-dict entry (a Tensor or an array; anything else as is)."""
    if isinstance(value, Tensor):
        return Tensor._wrap(value.array.copy())
    if hasattr(value, "copy") and hasattr(value, "shape"):
        return value.copy()
    return value
