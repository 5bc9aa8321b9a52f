"""Lazy layers: the input size is read from the first batch (``nn.LazyLinear(10)`` needs no in_features).

    model = nn.Sequential(nn.LazyConv2d(16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model(x[:1])                       # a dry run: every lazy layer sees its input and makes its weights
    opt = optim.SGD(model.parameters(), lr=0.1)

Until then each weight is an ``UninitializedParameter``: it is listed by ``parameters()`` and
``state_dict()``, but has no shape (asking for one is an error that says to run a batch first).
On the first forward it is *materialised in place* (the same object gets its array and becomes
a plain Parameter), it is initialised as the ordinary layer would be, and the module turns into
that layer (``type(model[-1])`` is then ``nn.Linear``), as in PyTorch. An optimizer made before
the dry run therefore still holds the right objects. Loading a state dict into a lazy layer
materialises its parameters with the loaded shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..device import xp_of
from ..tensor import Tensor
from .conv import Conv2d
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import Parameter


def _uninitialized(what: str) -> ValueError:
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when you are using a "
        "`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When "
        "using LazyModules, call `forward` with a dummy batch to initialize the parameters before calling "
        "torch functions"
    )


class _Uninitialized:
    """What UninitializedParameter and UninitializedBuffer share: no shape until ``materialize``."""

    cls_to_become: type = Tensor
    is_lazy = True

    @property
    def shape(self) -> tuple[int, ...]:  # type: ignore[override]
        raise _uninitialized("shape")

    def numel(self) -> int:
        raise _uninitialized("numel")

    def size(self, dim: int | None = None) -> Any:
        raise _uninitialized("size")

    def materialize(self, shape: tuple[int, ...], dtype: Any = None) -> None:
        """Give it an (uninitialised) array of ``shape`` and make it an ordinary Parameter / Tensor, in place.

        The array lives where the placeholder lives (``model.to("cuda")`` before the dry run works)
        and has its dtype unless ``dtype`` is given.
        """
        old = self.array  # type: ignore[attr-defined]
        self.array = xp_of(old).empty(tuple(shape), dtype=old.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter whose shape is not known yet (a lazy layer's weight before its first batch)."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True) -> None:
        Parameter.__init__(self, np.empty(0, dtype=np.float32), requires_grad=requires_grad)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics)."""

    cls_to_become = Tensor

    def __init__(self) -> None:
        Tensor.__init__(self, np.empty(0, dtype=np.float32))


def is_lazy(t: Any) -> bool:
    """True for an UninitializedParameter or UninitializedBuffer."""
    return isinstance(t, _Uninitialized)


class LazyModuleMixin:
    """The lazy protocol: ``initialize_parameters(input)`` on the first call, then become ``cls_to_become``."""

    cls_to_become: type[Module]

    def has_uninitialized_params(self) -> bool:
        """True while some parameter or buffer still waits for its shape."""
        own = list(self._parameters.values()) + list(self._buffers.values())  # type: ignore[attr-defined]
        return any(is_lazy(t) for t in own)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The first call: materialise from the input, become the ordinary layer, then run as it."""
        if self.has_uninitialized_params():
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
        self._infer_sizes()
        self.__class__ = self.cls_to_become
        return self(*args, **kwargs)

    def initialize_parameters(self, input: Tensor) -> None:
        """Materialise every parameter from the input's shape and draw the initial values."""
        raise TypeError(f"{type(self).__name__} must define initialize_parameters")

    def _infer_sizes(self) -> None:
        """Set the size attributes (in_features, in_channels, num_features) from the materialised weights."""

    def _materialize(self, shapes: dict[str, tuple[int, ...]]) -> None:
        for name, shape in shapes.items():
            t = self._parameters.get(name, self._buffers.get(name))  # type: ignore[attr-defined]
            if is_lazy(t):
                t.materialize(shape)


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` whose ``in_features`` is the first input's last dim: ``LazyLinear(out_features, bias=True)``."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True) -> None:
        super().__init__(0, out_features, bias)
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        """PyTorch's Linear initialisation, once in_features is known."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """in_features = input.shape[-1]."""
        self.in_features = input.shape[-1]
        self._materialize({"weight": (self.out_features, self.in_features), "bias": (self.out_features,)})
        self.reset_parameters()

    def _infer_sizes(self) -> None:
        self.in_features = self.weight.array.shape[1]

    def extra_repr(self) -> str:
        """The settings repr shows inside the parentheses."""
        return f"in_features=0, out_features={self.out_features}, bias={self.bias is not None}"


class LazyConv2d(LazyModuleMixin, Conv2d):
    """``nn.Conv2d`` whose ``in_channels`` is the first input's dim 1: ``LazyConv2d(out_channels, kernel_size)``."""

    cls_to_become = Conv2d

    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        """PyTorch's Conv2d initialisation, once in_channels is known."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """in_channels = input.shape[1] (input.shape[0] for an unbatched (C, H, W) image)."""
        self.in_channels = input.shape[1] if input.ndim == 4 else input.shape[0]
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self._materialize({"weight": shape, "bias": (self.out_channels,)})
        self.reset_parameters()

    def _infer_sizes(self) -> None:
        self.in_channels = self.weight.array.shape[1] * self.groups


class _LazyBatchNorm(LazyModuleMixin):
    """What LazyBatchNorm1d and 2d share: num_features = input.shape[1] on the first batch."""

    def __init__(
        self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True, track_running_stats: bool = True
    ) -> None:
        super().__init__(0, eps, momentum, affine, track_running_stats)  # type: ignore[call-arg]
        if affine:
            self.weight = UninitializedParameter()
            self.bias = UninitializedParameter()
        if track_running_stats:
            self.running_mean = UninitializedBuffer()
            self.running_var = UninitializedBuffer()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0, running statistics reset, once num_features is known."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor) -> None:
        """num_features = input.shape[1]."""
        if input.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected an input (N, C, ...), got shape {input.shape}")
        self.num_features = input.shape[1]
        c = (self.num_features,)
        self._materialize({"weight": c, "bias": c, "running_mean": c, "running_var": c})
        self.reset_parameters()

    def _infer_sizes(self) -> None:
        t = self.weight if self.weight is not None else self.running_mean
        if t is not None:
            self.num_features = t.array.shape[0]


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """``nn.BatchNorm1d`` whose num_features is read from the first batch (N, C) or (N, C, L)."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """``nn.BatchNorm2d`` whose num_features is read from the first batch (N, C, H, W)."""

    cls_to_become = BatchNorm2d
