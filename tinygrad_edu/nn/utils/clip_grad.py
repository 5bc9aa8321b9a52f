"""Gradient clipping: keep one bad batch from throwing the weights far away (``nn.utils``).

Call between ``loss.backward()`` and ``optimizer.step()``:

    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ...device import xp_of
from ...tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; returns that norm (before).

    total = ‖(‖g₁‖, ‖g₂‖, ...)‖ (the norm of all gradients seen as one long vector);
    every g is multiplied by min(1, max_norm / (total + 1e−6)), as PyTorch does. The direction
    of the update is kept, only its length is capped.
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    p = float(norm_type)
    xp = xp_of(grads[0].array)
    norms = xp.stack([xp.linalg.norm(g.array.ravel(), ord=p) for g in grads])
    total = xp.linalg.norm(norms, ord=p)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0).astype(total.dtype)
    for g in grads:
        g.array *= coef
    return Tensor._wrap(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    for g in _grads(parameters):
        xp_of(g.array).clip(g.array, -clip_value, clip_value, out=g.array)
