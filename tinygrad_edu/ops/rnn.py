"""The recurrent cells with a written-out backward: one LSTM step and one GRU step, as PyTorch computes them.

Both cells start with the same two affine maps of the input x (N, I) and the previous hidden
state h (N, H), whose rows are the gates stacked in PyTorch's order:

    gi = x W_ihᵀ + b_ih        gh = h W_hhᵀ + b_hh

and each backward ends with the matmul rule for them: given the gradients dgi, dgh of those
pre-activations,

    dx = dgi W_ih    dW_ih = dgiᵀ x    db_ih = Σ_n dgi
    dh = dgh W_hh    dW_hh = dghᵀ h    db_hh = Σ_n dgh

What differs is the gate arithmetic in between, written out in each class. An LSTM step has
two outputs (h', c'); the Function returns them stacked as one array [h'; c'] of shape
(2, N, H), so the usual one-output autograd carries both (the caller indexes [0] and [1], and
getitem's backward hands this op a zero gradient for whichever one was not used).
The plain RNN cell, tanh(gi + gh), teaches nothing new and is composed in nn/rnn.py.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..device import xp_of


def _sigmoid(xp: Any, a: Any) -> Any:
    """σ(a) = 1 / (1 + e^−a), computed without overflow for either sign of a."""
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _affine(x: Any, w: Any, b: Any) -> Any:
    """x Wᵀ + b (b may be None)."""
    y = x @ w.T
    return y if b is None else y + b


def _affine_grads(da: Any, x: Any, w: Any, need: tuple[bool, bool, bool]) -> tuple[Any, Any, Any]:
    """dx = da W, dW = daᵀ x, db = Σ_n da for y = x Wᵀ + b; ``need`` says which of (dx, dW, db) to compute."""
    dx = da @ w if need[0] else None
    dw = da.T @ x if need[1] else None
    db = da.sum(axis=0) if need[2] else None
    return dx, dw, db


class LSTMCell(Function):
    """One LSTM step. Inputs x (N, I), h (N, H), c (N, H), W_ih (4H, I), W_hh (4H, H), b_ih, b_hh (4H,).

    Forward, with a = gi + gh split into four (N, H) blocks in PyTorch's order i, f, g, o:

        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')                                   output: [h'; c'] (2, N, H)

    Backward, from dh' and dc' (the gradient reaching c' directly, from the next step):

        dc'_total = dc' + dh' ⊙ o ⊙ (1 − tanh²(c'))       (c' reaches the loss two ways)
        da_o = dh' ⊙ tanh(c') ⊙ o(1 − o)                  (σ' = σ(1 − σ))
        da_i = dc'_total ⊙ g ⊙ i(1 − i)
        da_f = dc'_total ⊙ c ⊙ f(1 − f)
        da_g = dc'_total ⊙ i ⊙ (1 − g²)                   (tanh' = 1 − tanh²)
        dc   = dc'_total ⊙ f                              (the cell state's gradient highway)

    and da = [da_i, da_f, da_g, da_o] is both dgi and dgh (a = gi + gh), which the matmul rule
    (module docstring) turns into dx, dh, dW_ih, dW_hh, db_ih, db_hh.
    """

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        xp = xp_of(x)
        a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        a_i, a_f, a_g, a_o = xp.split(a, 4, axis=1)
        i, f, g, o = _sigmoid(xp, a_i), _sigmoid(xp, a_f), xp.tanh(a_g), _sigmoid(xp, a_o)
        c_new = f * c + i * g
        tanh_c = xp.tanh(c_new)
        h_new = o * tanh_c
        ctx.save_for_backward(x, h, c, w_ih, w_hh, i, f, g, o, tanh_c)
        return xp.stack([h_new, c_new])

    @staticmethod
    def backward(ctx, dy):
        x, h, c, w_ih, w_hh, i, f, g, o, tanh_c = ctx.saved_tensors
        xp = xp_of(dy)
        dh_new, dc_new = dy[0], dy[1]
        dc_total = dc_new + dh_new * o * (1 - tanh_c * tanh_c)
        da_o = dh_new * tanh_c * o * (1 - o)
        da_i = dc_total * g * i * (1 - i)
        da_f = dc_total * c * f * (1 - f)
        da_g = dc_total * i * (1 - g * g)
        da = xp.concatenate([da_i, da_f, da_g, da_o], axis=1)
        dc = dc_total * f if ctx.needs_input_grad[2] else None
        need = ctx.needs_input_grad  # x, h, c, W_ih, W_hh, b_ih, b_hh
        dx, dw_ih, db_ih = _affine_grads(da, x, w_ih, (need[0], need[3], need[5]))
        dh, dw_hh, db_hh = _affine_grads(da, h, w_hh, (need[1], need[4], need[6]))
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


class GRUCell(Function):
    """One GRU step. Inputs x (N, I), h (N, H), W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,).

    Forward, with gi and gh each split into three (N, H) blocks in PyTorch's order r, z, n:

        r = σ(gi_r + gh_r)                 (reset gate)
        z = σ(gi_z + gh_z)                 (update gate)
        n = tanh(gi_n + r ⊙ gh_n)          (candidate; the reset gate scales h's part only)
        h' = (1 − z) ⊙ n + z ⊙ h

    Backward, from dh':

        dn   = dh' ⊙ (1 − z)          dz = dh' ⊙ (h − n)          dh_direct = dh' ⊙ z
        da_n = dn ⊙ (1 − n²)          (a_n = gi_n + r ⊙ gh_n)
        dr   = da_n ⊙ gh_n
        da_r = dr ⊙ r(1 − r)          da_z = dz ⊙ z(1 − z)
        dgi  = [da_r, da_z, da_n]     dgh = [da_r, da_z, da_n ⊙ r]

    then the matmul rule (module docstring), and dh = dgh W_hh + dh_direct.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        xp = xp_of(x)
        gi_r, gi_z, gi_n = xp.split(_affine(x, w_ih, b_ih), 3, axis=1)
        gh_r, gh_z, gh_n = xp.split(_affine(h, w_hh, b_hh), 3, axis=1)
        r, z = _sigmoid(xp, gi_r + gh_r), _sigmoid(xp, gi_z + gh_z)
        n = xp.tanh(gi_n + r * gh_n)
        ctx.save_for_backward(x, h, w_ih, w_hh, r, z, n, gh_n)
        return (1 - z) * n + z * h

    @staticmethod
    def backward(ctx, dh_new):
        x, h, w_ih, w_hh, r, z, n, gh_n = ctx.saved_tensors
        xp = xp_of(dh_new)
        da_n = dh_new * (1 - z) * (1 - n * n)
        da_r = da_n * gh_n * r * (1 - r)
        da_z = dh_new * (h - n) * z * (1 - z)
        dgi = xp.concatenate([da_r, da_z, da_n], axis=1)
        dgh = xp.concatenate([da_r, da_z, da_n * r], axis=1)
        need = ctx.needs_input_grad  # x, h, W_ih, W_hh, b_ih, b_hh
        dx, dw_ih, db_ih = _affine_grads(dgi, x, w_ih, (need[0], need[2], need[4]))
        dh, dw_hh, db_hh = _affine_grads(dgh, h, w_hh, (need[1], need[3], need[5]))
        if dh is not None:
            dh = dh + dh_new * z  # h also reaches h' directly, through z ⊙ h
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh
