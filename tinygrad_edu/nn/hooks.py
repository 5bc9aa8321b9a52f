"""Module hooks: functions called around a module's forward and backward, as PyTorch's.

    handle = model.fc1.register_forward_hook(lambda m, args, out: print(out.shape))
    ...
    handle.remove()

- ``register_forward_pre_hook(hook)``: ``hook(module, args)`` before forward; returning something
  replaces the positional arguments (a non-tuple becomes a 1-tuple).
- ``register_forward_hook(hook)``: ``hook(module, args, output)`` after forward; returning
  something replaces the output. With ``always_call=True`` it also runs (with ``output=None``)
  when forward raises, before the error goes on (for clean-up, as in PyTorch).
- ``register_full_backward_hook(hook)``: ``hook(module, grad_input, grad_output)`` once the
  gradients of the module's tensor inputs are known; returning a tuple replaces grad_input.

The backward hook works by threading the inputs and the outputs of forward through identity
Functions (y = x, dx = dy): the one on the output sees grad_output go by, the ones on the inputs
see grad_input. Inputs that need no gradient have ``None`` in grad_input; when none does, the
hook runs as soon as grad_output is known.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..autograd import Function
from ..autograd_hooks import RemovableHandle
from ..tensor import Tensor


def add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False, **flags: Any) -> RemovableHandle:
    """Store ``(hook, flags)`` under a fresh id, first or last; return its handle."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, flags)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class _Tap(Function):
    """y = x; dx = on_grad(dy): an identity node that lets a backward hook see (and replace) a gradient."""

    @staticmethod
    def forward(ctx, x, on_grad):
        ctx.on_grad = on_grad
        return x

    @staticmethod
    def backward(ctx, dy):
        return ctx.on_grad(dy), None


class _BackwardHookState:
    """The gradients of one forward call, collected as they arrive during backward."""

    def __init__(self, module: Any, n_inputs: int, waiting: list[int]) -> None:
        self.module, self.n_inputs, self.waiting = module, n_inputs, set(waiting)
        self.grad_input: list[Any] = [None] * n_inputs
        self.grad_output: tuple[Any, ...] = ()
        self.outputs_waiting: set[int] = set()

    def run_hooks(self) -> None:
        grad_input = tuple(self.grad_input)
        for hook, _ in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result)
        self.grad_input = list(grad_input)

    def output_grad(self, i: int, n: int) -> Callable:
        def on_grad(dy: Any) -> Any:
            out = list(self.grad_output) or [None] * n
            out[i] = Tensor._wrap(dy)
            self.grad_output = tuple(out)
            self.outputs_waiting.discard(i)
            if not self.waiting and not self.outputs_waiting:  # no input needs a gradient: run now
                self.run_hooks()
            return dy

        return on_grad

    def input_grad(self, i: int) -> Callable:
        def on_grad(dx: Any) -> Any:
            self.grad_input[i] = Tensor._wrap(dx)
            self.waiting.discard(i)
            if not self.waiting:
                self.run_hooks()
            g = self.grad_input[i]
            return dx if g is None else (g.array if isinstance(g, Tensor) else g)

        return on_grad


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module(*args, **kwargs)`` with its forward pre-hooks, forward hooks and backward hooks around forward."""
    for hook, flags in list(module._forward_pre_hooks.values()):
        if flags.get("with_kwargs"):
            result = hook(module, args, kwargs)
            if result is not None:
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    state = None
    if module._backward_hooks:
        waiting = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        state = _BackwardHookState(module, len(args), waiting)
        args = tuple(_Tap.apply(a, state.input_grad(i)) if i in waiting else a for i, a in enumerate(args))
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        for hook, flags in list(module._forward_hooks.values()):
            if flags.get("always_call"):
                hook(module, args, kwargs, None) if flags.get("with_kwargs") else hook(module, args, None)
        raise
    for hook, flags in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if flags.get("with_kwargs") else hook(module, args, output)
        if result is not None:
            output = result
    if state is not None:
        single = isinstance(output, Tensor)
        outs = [output] if single else list(output) if isinstance(output, tuple | list) else []
        n = len(outs)
        state.outputs_waiting = {i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad}
        tapped = [
            _Tap.apply(o, state.output_grad(i, n)) if isinstance(o, Tensor) and o.requires_grad else o
            for i, o in enumerate(outs)
        ]
        if outs:
            output = tapped[0] if single else type(output)(tapped)
    return output
