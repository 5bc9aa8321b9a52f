"""Recurrent networks: RNN, LSTM, GRU and their one-step cells, with PyTorch's names, shapes and defaults.

A recurrent layer carries a hidden state h along the sequence, one step at a time:

    h_t = cell(x_t, h_{t−1})                 (an LSTM also carries a cell state c_t)

RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or relu); the one-step cells are in
nn/rnn_cell.py, and the LSTM and GRU steps are Functions with their gate derivatives written out
(ops/rnn.py). Backpropagation through time is
the ordinary backward through this unrolled loop.

Parameters are PyTorch's: ``weight_ih_l{k}`` (gates·H, I), ``weight_hh_l{k}`` (gates·H, H),
``bias_ih_l{k}``, ``bias_hh_l{k}``, with the suffix ``_reverse`` for the backward direction
(and ``weight_hr_l{k}`` for an LSTM with ``proj_size``), all drawn from U(−1/√H, 1/√H), so a
PyTorch state dict loads unchanged. Inputs are (L, N, I), or (N, L, I) with
``batch_first=True``, or unbatched (L, I); cells take (N, I) or (I,).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.rnn import GRUCell as _GRUStep
from ..tensor import Tensor
from ..tensor_shape import cat, stack
from . import functional as F
from .module import Module
from .parameter import Parameter
from .rnn_cell import _GATES, _lstm_step, _rnn_step, _uniform_all

# ---- the layers over whole sequences ------------------------------------------------------------


class RNNBase(Module):
    """Stacked (``num_layers``), optionally bidirectional recurrent layers over a whole sequence.

    ``layer(input, hx=None)`` → (output, h_n) (LSTM: (output, (h_n, c_n))):
    output (L, N, D·H) holds the last layer's h_t for every t (both directions side by side,
    D = 2 if bidirectional else 1); h_n (num_layers·D, N, H) the final states of every layer
    and direction, in the order l0, l0_reverse, l1, ... ``dropout`` drops the outputs of every
    layer but the last, in training.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if proj_size < 0 or (proj_size and (mode != "LSTM" or proj_size >= hidden_size)):
            raise ValueError("proj_size must be 0, or (LSTM only) a positive number smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        # PyTorch's bookkeeping, which d2l's init_seq2seq reads: the weights' names in order, flat and per layer
        self._flat_weights_names, self._all_weights = [], []  # type: list[str], list[list[str]]
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * directions
            for suffix in ["", "_reverse"][:directions]:
                self._all_weights.append([])
                self._param(f"weight_ih_l{layer}{suffix}", (gates, layer_in))
                self._param(f"weight_hh_l{layer}{suffix}", (gates, out_size))
                if bias:
                    self._param(f"bias_ih_l{layer}{suffix}", (gates,))
                    self._param(f"bias_hh_l{layer}{suffix}", (gates,))
                if proj_size:
                    self._param(f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size))
        self.reset_parameters()

    def _param(self, name: str, shape: tuple[int, ...]) -> None:
        self.register_parameter(name, Parameter(np.empty(shape, dtype=np.float32)))
        self._flat_weights_names.append(name)
        self._all_weights[-1].append(name)

    @property
    def _flat_weights(self) -> list[Any]:
        """The weights in PyTorch's order (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse, l1 ...)."""
        return [self._parameters[n] for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Any]]:
        """The weights of each layer and direction, as lists in PyTorch's order."""
        return [[self._parameters[n] for n in names] for names in self._all_weights]

    def reset_parameters(self) -> None:
        """Every weight and bias from U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        _uniform_all(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one block for cuDNN; here each weight is its own array: nothing to do."""

    def _weights(self, layer: int, suffix: str) -> tuple[Any, ...]:
        get = self._parameters.get
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return tuple(get(f"{n}_l{layer}{suffix}") for n in names)

    def _step(self, x: Tensor, state: tuple[Tensor, ...], w: tuple[Any, ...]) -> tuple[Tensor, ...]:
        w_ih, w_hh, b_ih, b_hh, w_hr = w
        if self.mode == "LSTM":
            h, c = _lstm_step(x, state[0], state[1], w_ih, w_hh, b_ih, b_hh)
            return (h if w_hr is None else F.linear(h, w_hr), c)
        if self.mode == "GRU":
            return (_GRUStep.apply(x, state[0], w_ih, w_hh, b_ih, b_hh),)
        return (_rnn_step(x, state[0], w_ih, w_hh, b_ih, b_hh, self.mode == "RNN_RELU"),)

    def _initial_states(self, hx: Any, n: int, like: Tensor, batched: bool) -> list[Tensor]:
        """hx as a list of (layers·D, N, size) tensors (h, and c for an LSTM); zeros where omitted."""
        directions = 2 if self.bidirectional else 1
        sizes = [self.proj_size or self.hidden_size] + ([self.hidden_size] if self.mode == "LSTM" else [])
        given = [None] * len(sizes) if hx is None else (list(hx) if self.mode == "LSTM" else [hx])
        if len(given) != len(sizes):
            raise ValueError(f"{type(self).__name__}: hx must be a tuple (h_0, c_0)")
        states = []
        for s, size in zip(given, sizes):
            expected = (self.num_layers * directions, n, size)
            if s is None:
                s = Tensor(np.zeros(expected, dtype=like.dtype), device=like.device)
            elif not batched:
                s = s.unsqueeze(1)
            if s.shape != expected:
                shown = expected if batched else (expected[0], expected[2])
                raise ValueError(
                    f"{type(self).__name__}: expected hidden state of shape {shown}, got "
                    f"{s.shape if batched else (s.shape[0], s.shape[2])}"
                )
            states.append(s)
        return states

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        """input (L, N, I) [(N, L, I) if batch_first; (L, I) unbatched] → (output, h_n) or (output, (h_n, c_n))."""
        name = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}(input_size={self.input_size}): expected input of shape (L, N, {self.input_size}) "
                f"({'(N, L, I) with batch_first' if self.batch_first else 'or (N, L, I) with batch_first=True'}), "
                f"or (L, {self.input_size}) unbatched; got {input.shape}"
            )
        batched = input.ndim == 3
        x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
        if not batched:
            x = x.unsqueeze(1)
        length, n = x.shape[0], x.shape[1]
        states = self._initial_states(hx, n, x, batched)
        directions = 2 if self.bidirectional else 1
        steps = [x[t] for t in range(length)]
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs_by_direction = []
            for d, suffix in enumerate(["", "_reverse"][:directions]):
                k = layer * directions + d
                state = tuple(s[k] for s in states)
                w = self._weights(layer, suffix)
                outs: list[Tensor] = [None] * length  # type: ignore[list-item]
                for t in range(length - 1, -1, -1) if d == 1 else range(length):
                    state = self._step(steps[t], state, w)
                    outs[t] = state[0]
                outputs_by_direction.append(outs)
                for i, s in enumerate(state):
                    finals[i].append(s)
            if directions == 2:
                steps = [cat([a, b], dim=-1) for a, b in zip(*outputs_by_direction)]  # (N, 2H)
            else:
                steps = outputs_by_direction[0]
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout) for s in steps]
        output = stack(steps, 0)  # (L, N, D·H)
        h_n = [stack(f, 0) for f in finals]
        if not batched:
            output, h_n = output.squeeze(1), [h.squeeze(1) for h in h_n]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(h_n) if self.mode == "LSTM" else h_n[0])

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN over a sequence: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or ``nonlinearity="relu"``).

    ``nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; see RNNBase for the shapes.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class LSTM(RNNBase):
    """LSTM over a sequence (the step: ops/rnn.py's LSTMCell); returns (output, (h_n, c_n)).

    ``nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``; ``hx`` is (h_0, c_0). With ``proj_size`` > 0 each h_t is
    projected to proj_size features by ``weight_hr_l{k}`` (h_t = (o ⊙ tanh c_t) W_hrᵀ).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size
        )


class GRU(RNNBase):
    """GRU over a sequence (the step: ops/rnn.py's GRUCell); returns (output, h_n).

    ``nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
