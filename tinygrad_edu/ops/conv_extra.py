"""More convolution ops, built on the kernel table's conv2d (kernels/): dilation, transposed convolution, padding.

- ``Dilate``: a dilated kernel is the kernel with d − 1 zeros between its taps, so a dilated
  convolution is an ordinary one with that bigger, sparser kernel (conv2d then does the work).
- ``ConvTranspose2d``: the transposed convolution is the *backward* of a convolution. With
  conv(x) = y, its input-gradient map dy → dx is linear; conv_transpose applies that map to its
  input. So its forward is the table's ``conv2d_backward_input`` and its backward uses
  ``conv2d_forward`` (for dx) and ``conv2d_backward_weight`` (for dw).
- ``ConstantPad``: pad with a constant (or crop, for negative amounts).
"""

from __future__ import annotations

from .. import kernels
from ..autograd import Function
from ..device import device_of, xp_of


class Dilate(Function):
    """w_d[..., kh·dh, kw·dw] = w[..., kh, kw], zeros elsewhere: shape (KH−1)·dh + 1 by (KW−1)·dw + 1.

    Each tap of w appears once in w_d, so dw is dy read back at the same places:
    dw[..., kh, kw] = dy[..., kh·dh, kw·dw].
    """

    @staticmethod
    def forward(ctx, w, dilation):
        dh, dw = dilation
        *lead, kh, kw = w.shape
        out = xp_of(w).zeros((*lead, (kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=w.dtype)
        out[..., ::dh, ::dw] = w
        ctx.dilation = dilation
        return out

    @staticmethod
    def backward(ctx, dy):
        dh, dw = ctx.dilation
        return dy[..., ::dh, ::dw].copy(), None


class ConvTranspose2d(Function):
    """y = Cᵀ x: the adjoint of the convolution C with weight w (C_in, C_out, KH, KW), stride and padding.

    Written out: every input pixel x[n, i, h, w] spreads a copy of the filter w[i] onto the output,

        y[n, o, h·sh + kh − ph, w·sw + kw − pw] += x[n, i, h, w] · w[i, o, kh, kw]

    which is exactly how conv2d's backward spreads dy onto dx, so forward = conv2d_backward_input
    (x playing dy). The output has H_out = (H − 1)·sh − 2·ph + KH + output_padding rows. y is
    linear in x and in w:

        dx = C dy   (an ordinary convolution of dy with w: conv2d_forward)
        dw[i, o, kh, kw] = Σ x[n, i, h, w] · dy[n, o, h·sh + kh − ph, w·sw + kw − pw]
           (conv2d_backward_weight with x as the "dy" and dy as the "x")
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, out_hw):
        xp = xp_of(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y_shape = (x.shape[0], w.shape[1], *out_hw)
        ctx.save_for_backward(x, w)
        ctx.stride, ctx.padding = stride, padding
        return kernels.for_device(device_of(x), "conv_transpose2d").conv2d_backward_input(
            x, w, y_shape, stride, padding
        )

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dy = xp_of(dy).ascontiguousarray(dy)
        k = kernels.for_device(device_of(dy), "conv_transpose2d")
        dx = k.conv2d_forward(dy, w, ctx.stride, ctx.padding) if ctx.needs_input_grad[0] else None
        dw = k.conv2d_backward_weight(x, dy, w.shape, ctx.stride, ctx.padding) if ctx.needs_input_grad[1] else None
        return dx, dw, None, None, None


class ConstantPad(Function):
    """y = x surrounded by ``value``: ``pads`` is ((before, after), ...) per dim, negatives crop.

    Each x element lands at one place of y (or is cropped away), so dx is dy cut back to x's place
    (cropped elements get 0).
    """

    @staticmethod
    def forward(ctx, x, pads, value):
        xp = xp_of(x)
        grow = [(max(a, 0), max(b, 0)) for a, b in pads]
        y = xp.pad(x, grow, constant_values=value) if any(a or b for a, b in grow) else x.copy()
        crop = tuple(slice(max(-a, 0), y.shape[i] - max(-b, 0)) for i, (a, b) in enumerate(pads))
        ctx.pads, ctx.x_shape = pads, x.shape
        return y[crop]

    @staticmethod
    def backward(ctx, dy):
        xp = xp_of(dy)
        dx = xp.zeros(ctx.x_shape, dtype=dy.dtype)
        src, dst = [], []
        for (a, b), n in zip(ctx.pads, ctx.x_shape):
            start, stop = max(-a, 0), n - max(-b, 0)  # the part of x that survives the crop
            src.append(slice(start + a, stop + a))
            dst.append(slice(start, stop))
        dx[tuple(dst)] = dy[tuple(src)]
        return dx, None, None
