"""The one-step recurrent cells: RNNCell, LSTMCell and GRUCell, with PyTorch's names, shapes and defaults.

One step of each, on a batch (N, I) or one sample (I,):

    RNNCell:   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)        (or relu)
    LSTMCell:  (h', c') from the gates i, f, g, o                  (ops/rnn.py: the LSTMCell Function)
    GRUCell:   h' from the gates r, z and the candidate n           (ops/rnn.py: the GRUCell Function)

The LSTM and GRU steps are Functions with their gate derivatives written out; the layers over
whole sequences (nn/rnn.py) unroll these same steps. Parameters are PyTorch's: ``weight_ih``
(gates·H, I), ``weight_hh`` (gates·H, H), ``bias_ih``, ``bias_hh``, drawn from U(−1/√H, 1/√H).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.rnn import GRUCell as _GRUStep
from ..ops.rnn import LSTMCell as _LSTMStep
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # gate blocks per cell: rows of W are gates·H


def _uniform_all(module: Module, hidden_size: int) -> None:
    """PyTorch's initialisation of every recurrent weight and bias: U(−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _rnn_step(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Any, b_hh: Any, relu: bool) -> Tensor:
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), composed from Linear ops (act: tanh or relu)."""
    a = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return a.relu() if relu else a.tanh()


def _lstm_step(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Any, b_hh: Any) -> tuple:
    """(h', c') from the LSTMCell Function, whose output is [h'; c'] stacked."""
    hc = _LSTMStep.apply(x, h, c, w_ih, w_hh, b_ih, b_hh)
    return hc[0], hc[1]


# ---- the cells ----------------------------------------------------------------------------------


class _CellBase(Module):
    """What the three cells share: sizes, the four parameters, the unbatched case and the checks."""

    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), dtype=np.float32))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), dtype=np.float32))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=np.float32))
            self.bias_hh = Parameter(np.empty(gates, dtype=np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        _uniform_all(self, self.hidden_size)

    def _batch(self, input: Tensor, states: list[Any]) -> tuple[Tensor, list[Tensor], bool]:
        """Make the input (N, I) and every state (N, H); missing states are zeros. Returns (x, states, batched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}({self.input_size}, {self.hidden_size}): expected an input of shape (N, {self.input_size}) "
                f"or ({self.input_size},), got {input.shape}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        out = []
        for s in states:
            if s is None:
                s = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype), device=x.device)
            elif not batched:
                s = s.unsqueeze(0)
            if s.shape != (x.shape[0], self.hidden_size):
                raise ValueError(
                    f"{name}: a state must have shape {(x.shape[0], self.hidden_size)} for input {input.shape}, "
                    f"got {s.shape if batched else s.shape[1:]}"
                )
            out.append(s)
        return x, out, batched

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self._mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(_CellBase):
    """One Elman step: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (``nonlinearity="relu"``: relu).

    ``cell(x, h=None)``: x (N, I) or (I,), h (N, H) (zeros when omitted) → h' (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """x, h → h'."""
        x, (h,), batched = self._batch(input, [hx])
        h = _rnn_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self._mode == "RNN_RELU")
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o; the math and its backward in ops/rnn.py's LSTMCell).

    ``cell(x, (h, c)=None)`` → (h', c'), each (N, H); omitted states are zeros.
    """

    _mode = "LSTM"

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """x, (h, c) → (h', c')."""
        x, (h, c), batched = self._batch(input, [None, None] if hx is None else list(hx))
        h, c = _lstm_step(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step (gates r, z and the candidate n; the math and its backward in ops/rnn.py's GRUCell).

    ``cell(x, h=None)`` → h' (N, H).
    """

    _mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """x, h → h'."""
        x, (h,), batched = self._batch(input, [hx])
        h = _GRUStep.apply(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
