"""Checking a backward against finite differences: the way to trust a gradient you wrote.

For a function f of some tensors, pick a random direction v for the output and look at the
scalar L(x) = Σ v · f(x). Backward gives dL/dx exactly as the chain rule computes it; the central
difference (L(x + ε) − L(x − ε)) / 2ε, one element at a time, gives it numerically. In float64 the
two agree to about ε² ≈ 1e−12 of truncation error plus rounding, far inside the tolerances below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the input, the index and both values."""


def _as_float64_leaf(x: Any) -> Any:
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return Tensor(x.detach().numpy().astype(np.float64), requires_grad=x.requires_grad, device=x.device)
    return x


def _outputs(out: Any) -> list[Tensor]:
    outs = list(out) if isinstance(out, tuple | list) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare backward with central finite differences, in float64, for every input that requires grad.

    ``inputs`` is a tensor or a sequence of tensors (and other arguments, passed through). Float
    tensors are copied to float64 first. Each analytic value a must match the numeric value n within
    |a − n| ≤ atol + rtol · |n|. Returns True, or raises GradcheckError at the first mismatch.
    """
    args = list(inputs) if isinstance(inputs, Sequence) and not isinstance(inputs, Tensor) else [inputs]
    args = [_as_float64_leaf(a) for a in args]
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; make at least one with requires_grad=True")

    outs = _outputs(fn(*args))
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(o.shape) for o in outs]

    def loss_value() -> float:
        with no_grad():
            return float(sum(np.sum(d * o.detach().numpy()) for d, o in zip(directions, _outputs(fn(*args)))))

    # analytic: one backward of L = Σ v · f(x)
    loss = sum((o * Tensor(d, device=o.device)).sum() for o, d in zip(outs, directions) if o.requires_grad)
    if isinstance(loss, Tensor):
        loss.backward()

    for i in checked:
        x = args[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        host = x.detach().numpy()  # on "cpu" this is x's own storage, so perturbing it perturbs x
        for idx in np.ndindex(*x.shape):
            old = host[idx]
            host[idx] = old + eps
            x.array = Tensor(host, device=x.device).array
            plus = loss_value()
            host[idx] = old - eps
            x.array = Tensor(host, device=x.device).array
            minus = loss_value()
            host[idx] = old
            x.array = Tensor(host, device=x.device).array
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic[idx])
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: input {i}, index {idx}: backward gives {a:.8g} but finite differences "
                    f"give {numeric:.8g} (|difference| = {abs(a - numeric):.3g}, "
                    f"allowed {atol + rtol * abs(numeric):.3g})"
                )
    return True
