"""Floating point as PyTorch does it: overflow gives ±inf, 0/0 gives nan, and nothing warns.

NumPy follows IEEE 754 for its results (``np.float32(3e38) * 10`` is inf, as in PyTorch) but also
*warns* ("overflow encountered in multiply"). PyTorch never warns: an inf or nan in a result is
the answer, and the learner sees it in the tensor. So every op runs under ``ieee()``, which
keeps NumPy's IEEE results and silences its warnings, for exactly the duration of the op:

    with ieee():
        y = x * x        # inf where x² > 3.4e38, silently, as torch gives

This is the one place the library sets NumPy's error state. ``Function`` applies it to every
forward and backward (autograd.Function.__init_subclass__), so an op's code stays the math;
code that computes on arrays outside a Function uses ``with ieee():`` itself.
Silencing a warning is not hiding a problem: ops are written with stable formulas (log-sum-exp,
sigmoid from e^−|x|, layer_norm's scaled variance) so that inf and nan appear only where the
true answer is out of range, just as in PyTorch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np


def ieee() -> Any:
    """A fresh context in which NumPy computes IEEE results (inf, nan, subnormals) without warning."""
    return np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore")


def ieee_arithmetic(fn: Callable) -> Callable:
    """Decorate ``fn`` so that it runs under ``ieee()`` (used for every Function's forward and backward)."""

    @functools.wraps(fn)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with ieee():
            return fn(*args, **kwargs)

    quiet.__wrapped_ieee__ = True  # type: ignore[attr-defined]
    return quiet
