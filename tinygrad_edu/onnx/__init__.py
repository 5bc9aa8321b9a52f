"""Export a model to ONNX, the file format other runtimes read (onnxruntime, TensorRT, browsers, phones).

    import tinygrad_edu.onnx
    tinygrad_edu.onnx.export(model, example_input, "model.onnx")
    import onnxruntime as ort
    y = ort.InferenceSession("model.onnx").run(None, {"input": x.numpy()})[0]

An ONNX file is a graph: nodes (standard operators such as Gemm, Conv, Relu, Softmax) joined by
named values, with the weights stored inside as initializers. ``export`` builds it by tracing:
it runs the model once on ``example_input`` (in eval mode, without gradients) with a forward
hook on every layer, records which layer was called on which value in which order, and writes
each call as that layer's ONNX operators (layers.py lists them). Containers (Sequential, your
own Module classes) are followed into; what is exported is the chain of layers they call.

So everything the model computes must happen inside layers: a ``F.relu(x)`` or ``x.view(...)``
written in a forward between two layers is invisible to the hooks, and export stops with an
error naming the layer whose input came from such an operation (write it as ``nn.ReLU()``,
``nn.Flatten()``). A layer without a translation (an RNN, your own layer with parameters) is an
error naming it. This is the idea of torch.onnx.export's tracer, at the level of layers.

Needs the optional packages ``onnx`` (to build and check the file) and, to run it,
``onnxruntime``: ``pip install -e '.[onnx]'``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .errors import UnsupportedLayerError
from .layers import TRANSLATIONS, Graph

__all__ = ["export", "UnsupportedLayerError", "TRANSLATIONS", "OPSET"]

OPSET = 17  # LayerNormalization needs 17; onnxruntime ≥ 1.14 runs it


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "tinygrad_edu.onnx.export needs the onnx package: pip install onnx onnxruntime "
            "(or pip install -e '.[onnx]')"
        ) from None
    return onnx


def _leaves(model: Module) -> list[tuple[str, Module]]:
    """The layers export hooks: modules with a translation (not entered) and modules without children."""
    found: list[tuple[str, Module]] = []

    def walk(name: str, module: Module) -> None:
        if type(module) in TRANSLATIONS or not any(True for _ in module.children()):
            found.append((name, module))
            return
        for child_name, child in module.named_children():
            walk(f"{name}.{child_name}" if name else child_name, child)

    walk("", model)
    return found


def _supported() -> str:
    return ", ".join(sorted(t.__name__ for t in TRANSLATIONS))


def _check_call(name: str, module: Module, args: tuple, kwargs: dict) -> None:
    """Only calls export can write: one tensor input (attention: query = key = value), no masks."""
    label = f"'{name or type(module).__name__}' ({type(module).__name__})"
    if type(module) not in TRANSLATIONS:
        raise UnsupportedLayerError(f"onnx.export: layer {label} has no ONNX translation. Supported: {_supported()}")
    extra = list(args[1:])
    if type(module).__name__ == "MultiheadAttention":
        if len(args) < 3 or not (args[0] is args[1] is args[2]):
            raise UnsupportedLayerError(
                f"onnx.export: {label} is exported as self-attention only (query = key = value)"
            )
        extra = list(args[3:])
    masks = [k for k, v in kwargs.items() if v is not None and v is not False and k not in ("need_weights",)]
    if any(isinstance(a, Tensor) for a in extra) or masks:
        raise UnsupportedLayerError(
            f"onnx.export: {label} was called with extra inputs or masks ({', '.join(masks) or 'tensors'}); "
            "export writes calls on a single input"
        )


def export(
    model: Module,
    example_input: Tensor,
    path: str | os.PathLike | None = None,
    input_names: tuple[str, ...] = ("input",),
    output_names: tuple[str, ...] = ("output",),
    dynamic_axes: dict[str, dict[int, str]] | None = None,
    opset_version: int = OPSET,
) -> Any:
    """Trace ``model`` on ``example_input`` and write it as an ONNX file at ``path``; returns the ModelProto.

    ``dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}`` (torch.onnx.export's
    argument) lets that dim vary when the file is run; by default every shape is the example's.
    The model is checked with ``onnx.checker`` before it is written; the file appears whole or
    not at all.
    """
    onnx = _import_onnx()
    from onnx import helper, numpy_helper

    if not isinstance(example_input, Tensor):
        raise TypeError(f"onnx.export: example_input must be a Tensor, got {type(example_input).__name__}")
    g = Graph(helper, numpy_helper)
    names: dict[int, str] = {id(example_input): input_names[0]}
    keep: list[Any] = [example_input]  # keeps every traced tensor alive, so no id is reused during the trace

    def hook(name: str) -> Any:
        def record(module: Module, args: tuple, kwargs: dict, output: Any) -> None:
            _check_call(name, module, args, kwargs)
            x = args[0]
            if id(x) not in names:
                raise UnsupportedLayerError(
                    f"onnx.export: the input of layer '{name}' ({type(module).__name__}) was computed outside a "
                    "layer (an F.* call, x.view(...), +, ... in a forward). Export follows layers only: write "
                    "that step as a layer (nn.ReLU(), nn.Flatten(), ...)"
                )
            y = output[0] if isinstance(output, tuple) else output
            names[id(y)] = TRANSLATIONS[type(module)](g, module, names[id(x)], tuple(x.shape))
            keep.extend([x, y])

        return record

    was_training = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(hook(name), with_kwargs=True) for name, m in _leaves(model)]
    try:
        model.eval()
        with no_grad():
            output = model(example_input)
    finally:
        for h in handles:
            h.remove()
        for m, mode in was_training:
            m.training = mode
    output = output[0] if isinstance(output, tuple) else output
    if id(output) not in names:
        raise UnsupportedLayerError(
            "onnx.export: the model's output was computed outside a layer (an operation after the last layer "
            "in a forward); write it as a layer"
        )
    g.node("Identity", [names[id(output)]], "output")
    g.nodes[-1].output[0] = output_names[0]  # the graph's output value, by the name the caller gave
    dynamic_axes = dynamic_axes or {}

    def value_info(name: str, t: Tensor) -> Any:
        dims: list[Any] = list(t.shape)
        for axis, label in dynamic_axes.get(name, {}).items():
            dims[axis] = label
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
        return helper.make_tensor_value_info(name, elem, dims)

    graph = helper.make_graph(
        g.nodes,
        type(model).__name__,
        [value_info(input_names[0], example_input)],
        [value_info(output_names[0], output)],
        initializer=g.initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="tinygrad_edu")  # fmt: skip
    proto.ir_version = 8  # what onnxruntime ≥ 1.14 reads
    onnx.checker.check_model(proto)
    if path is not None:
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                f.write(proto.SerializeToString())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return proto
