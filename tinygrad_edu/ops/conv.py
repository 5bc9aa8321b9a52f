"""Convolution and pooling: the ops of a CNN, computed by the kernel table (kernels/).

Shapes follow PyTorch: images x (N, C, H, W), filters w (F, C, KH, KW), stride (sh, sw) and
padding (ph, pw). Every op reads the same windows of the padded input x_pad:

    window (oh, ow) = x_pad[n, c, oh·sh + kh, ow·sw + kw]  for kh < KH, kw < KW
    OH = (H + 2·ph − KH) // sh + 1,   OW = (W + 2·pw − KW) // sw + 1

conv2d multiplies each window by every filter and sums, max_pool2d keeps its largest number,
avg_pool2d its mean. The arithmetic lives in the kernels (kernels/numpy_ref.py is the readable
version); here each op states its forward and backward and checks its arguments.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from .. import kernels
from ..autograd import Function
from ..device import device_of, xp_of
from ..errors import ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

IntOrPair = int | tuple[int, int]


# ---------------------------------------------------------------------------------------------
# Arguments: pairs, shapes and dtypes, with errors that say what to do
# ---------------------------------------------------------------------------------------------


def _pair(value: Any, what: str, op: str, smallest: int) -> tuple[int, int]:
    """An int or a pair of ints as (along H, along W), each at least ``smallest``."""
    if isinstance(value, str):
        raise ValueError(
            f"{op}: {what} must be an int or a pair of ints, got {value!r}. For 'same' output size with a "
            f"k×k kernel and stride 1, use padding=k // 2 (k odd); for 'valid', padding=0."
        )
    values = tuple(value) if isinstance(value, tuple | list) else (value, value)
    try:
        pair = tuple(operator.index(v) for v in values)  # ints, NumPy ints too; not floats
    except TypeError:
        pair = ()
    if len(pair) != 2:
        raise ValueError(f"{op}: {what} must be an int or a pair of ints (along H, along W), got {value!r}")
    if min(pair) < smallest:
        raise ValueError(f"{op}: {what} must be at least {smallest}, got {value!r}")
    return pair


def _check_input(x: Any, op: str) -> None:
    """x must be a floating-point batch of images (N, C, H, W)."""
    if x.ndim != 4:
        hint = "; add a batch dim with x.unsqueeze(0)" if x.ndim == 3 else ""
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W), got {tuple(x.shape)}{hint}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype}; call x.float() first")


def _check_window(x_shape: tuple[int, ...], kernel: tuple[int, int], padding: tuple[int, int], op: str) -> None:
    """The window must fit inside the padded input, or there is no output pixel at all."""
    padded = (x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ShapeError(
            f"{op}: the {kernel[0]}×{kernel[1]} kernel is bigger than the padded input "
            f"{padded[0]}×{padded[1]} (input {tuple(x_shape)}, padding {padding}); "
            "use a smaller kernel, more padding, or a bigger image"
        )


def _check_conv(x: Any, w: Any, b: Any, padding: tuple[int, int]) -> None:
    """Shapes and dtypes of conv2d's arguments agree, or the error names both sides."""
    _check_input(x, "conv2d")
    if w.ndim != 4:
        raise ShapeError(f"conv2d: weight must have shape (out_channels, in_channels, KH, KW), got {tuple(w.shape)}")
    if x.shape[1] != w.shape[1]:
        raise ShapeError(
            f"conv2d: input {tuple(x.shape)} has {x.shape[1]} channels but weight {tuple(w.shape)} expects "
            f"{w.shape[1]} (weight is (out_channels, in_channels, KH, KW))"
        )
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ShapeError(
            f"conv2d: bias of shape {tuple(b.shape)} does not match weight {tuple(w.shape)}: "
            f"one bias per filter needs shape ({w.shape[0]},)"
        )
    for name, a in (("weight", w), ("bias", b)):
        if a is not None and a.dtype != x.dtype:
            raise TypeError(
                f"conv2d: input is {x.dtype} but {name} is {a.dtype}; convert one side so both match, "
                "e.g. x = x.float() (float32: the default dtype of layers and their weights)"
            )
    _check_window(x.shape, w.shape[2:], padding, "conv2d")


def _check_pool(x: Any, kernel: tuple[int, int], padding: tuple[int, int], op: str) -> None:
    """A pool's input is a batch of images; its padding is at most half the kernel, as in PyTorch."""
    _check_input(x, op)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ShapeError(
            f"{op}: padding {padding} must be at most half of kernel_size {kernel}, as in PyTorch "
            "(otherwise a window could hold nothing but padding)"
        )
    _check_window(x.shape, kernel, padding, op)


# ---------------------------------------------------------------------------------------------
# The ops
# ---------------------------------------------------------------------------------------------


class Conv2d(Function):
    """y[n,f,oh,ow] = b[f] + Σ_c Σ_kh Σ_kw x_pad[n,c,oh·sh+kh, ow·sw+kw] · w[f,c,kh,kw]

    y is linear in each of x, w and b, so each gradient is dy times the factor that input met:

        dx_pad[n,c,oh·sh+kh, ow·sw+kw] += Σ_f dy[n,f,oh,ow] · w[f,c,kh,kw]   then drop the padding
        dw[f,c,kh,kw] = Σ_n Σ_oh Σ_ow dy[n,f,oh,ow] · x_pad[n,c,oh·sh+kh, ow·sw+kw]
        db[f]         = Σ_n Σ_oh Σ_ow dy[n,f,oh,ow]

    A pixel read by several windows collects one term per window (the "+="): that is col2im,
    the scatter-add that undoes im2col. dw correlates the input with dy; db sums dy per filter.
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, padding):
        _check_conv(x, w, b, padding)
        xp = xp_of(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)  # kernels get C-contiguous arrays
        ctx.save_for_backward(x, w)
        ctx.stride, ctx.padding = stride, padding
        return kernels.for_device(device_of(x), "conv2d").conv2d_forward(x, w, stride, padding, b)  # + b[f]

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dy = xp_of(dy).ascontiguousarray(dy)
        k = kernels.for_device(device_of(dy), "conv2d")
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = k.conv2d_backward_input(dy, w, x.shape, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[1]:
            dw = k.conv2d_backward_weight(dy, x, w.shape, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[2]:
            db = k.conv2d_backward_bias(dy)  # Σ over n, oh, ow
        return dx, dw, db, None, None


class MaxPool2d(Function):
    """y[n,c,oh,ow] = max_{kh,kw} x_pad[n,c,oh·sh+kh, ow·sw+kw]      (padding = −inf)

    Only the winner of a window moves y; its derivative is 1 and every other pixel's is 0. The
    forward remembers each winner as indices[n,c,oh,ow] = h·W + w, and backward routes dy there:

        dx[n,c].flat[indices[n,c,oh,ow]] += dy[n,c,oh,ow]

    A pixel that wins several overlapping windows collects all their gradients. On a tie the
    first maximum in the window wins, as in PyTorch (the derivative is not defined there).
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        _check_pool(x, kernel, padding, "max_pool2d")
        x = xp_of(x).ascontiguousarray(x)
        y, indices = kernels.for_device(device_of(x), "max_pool2d").max_pool2d_forward(x, kernel, stride, padding)
        ctx.save_for_backward(indices)
        ctx.x_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, dy):
        (indices,) = ctx.saved_tensors
        dy = xp_of(dy).ascontiguousarray(dy)
        dx = kernels.for_device(device_of(dy), "max_pool2d").max_pool2d_backward(dy, indices, ctx.x_shape)
        return dx, None, None, None


class AvgPool2d(Function):
    """y[n,c,oh,ow] = 1/(KH·KW) · Σ_kh Σ_kw x_pad[n,c,oh·sh+kh, ow·sw+kw]      (padding = 0)

    Every pixel of a window moves its mean by 1/(KH·KW), so each receives that share of dy,
    summed over the windows that cover it (padding's share is dropped):

        dx[n,c,oh·sh+kh−ph, ow·sw+kw−pw] += dy[n,c,oh,ow] / (KH·KW)

    The divisor is always KH·KW, padding included (PyTorch's default, count_include_pad=True).
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        _check_pool(x, kernel, padding, "avg_pool2d")
        x = xp_of(x).ascontiguousarray(x)
        ctx.x_shape, ctx.kernel, ctx.stride, ctx.padding = x.shape, kernel, stride, padding
        return kernels.for_device(device_of(x), "avg_pool2d").avg_pool2d_forward(x, kernel, stride, padding)

    @staticmethod
    def backward(ctx, dy):
        dy = xp_of(dy).ascontiguousarray(dy)
        k = kernels.for_device(device_of(dy), "avg_pool2d")
        return k.avg_pool2d_backward(dy, ctx.x_shape, ctx.kernel, ctx.stride, ctx.padding), None, None, None


# ---------------------------------------------------------------------------------------------
# The functional forms, with PyTorch's signatures (nn.functional and the nn layers call these)
# ---------------------------------------------------------------------------------------------


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with weight (F, C, KH, KW).

    Returns (N, F, OH, OW) with OH = (H + 2·ph − KH) // sh + 1. ``bias`` has shape (F,);
    ``stride`` and ``padding`` are an int or a pair (along H, along W).
    """
    return Conv2d.apply(x, weight, bias, _pair(stride, "stride", "conv2d", 1), _pair(padding, "padding", "conv2d", 0))


def max_pool2d(x: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """The largest value of each kernel_size window of x (N, C, H, W); stride defaults to kernel_size."""
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None else _pair(stride, "stride", "max_pool2d", 1)
    return MaxPool2d.apply(x, kernel, stride, _pair(padding, "padding", "max_pool2d", 0))


def avg_pool2d(x: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """The mean of each kernel_size window of x (N, C, H, W), padding counting as zeros; stride defaults to kernel_size.

    The divisor is always KH·KW (PyTorch's default count_include_pad=True).
    """
    kernel = _pair(kernel_size, "kernel_size", "avg_pool2d", 1)
    stride = kernel if stride is None else _pair(stride, "stride", "avg_pool2d", 1)
    return AvgPool2d.apply(x, kernel, stride, _pair(padding, "padding", "avg_pool2d", 0))
