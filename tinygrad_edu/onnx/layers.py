"""One ONNX translation per layer: which ONNX operators compute what the layer's forward computes.

Each translation ``emit(g, module, x, shape)`` receives the graph being built, the layer, the name
of its input value and the input's shape, adds nodes (and the layer's weights as initializers),
and returns the name of its output value. The ONNX operators are documented at
https://onnx.ai/onnx/operators/ (opset 17 here):

    Linear              Gemm(x, W, b, transB=1)         (2-D input; MatMul + Add otherwise)
    Conv2d              Conv(x, W, b, strides, pads, dilations, group)
    MaxPool2d/AvgPool2d MaxPool / AveragePool(count_include_pad=1)
    ReLU, Sigmoid, Tanh Relu, Sigmoid, Tanh; LeakyReLU → LeakyRelu(alpha)
    GELU                x · ½ (1 + erf(x/√2)) (Erf), or the tanh formula for approximate="tanh"
    Softmax/LogSoftmax  Softmax / LogSoftmax(axis)
    Flatten             Flatten(axis=start_dim) or Reshape
    BatchNorm (eval)    BatchNormalization(x, γ, β, running mean, running var, epsilon)
    LayerNorm           LayerNormalization(x, γ, β, axis, epsilon)
    Dropout (eval)      Identity
    Embedding           Gather(W, indices)
    MultiheadAttention  MatMul/Add (in_proj), Split, Reshape/Transpose to heads, softmax(q kᵀ/√d) v, out_proj
    TransformerEncoderLayer  the above, with the residual Adds, post- or pre-norm
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import nn
from ..nn import functional as F
from .errors import UnsupportedLayerError


class Graph:
    """The nodes and initializers of the ONNX graph being built; names are made unique with a counter."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array: Any, hint: str) -> str:
        """An initializer (a weight or a constant) holding ``array``; returns its name."""
        name = self._name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """One node ``op(inputs)`` with ONNX attributes; returns the name of its (single) output."""
        out = self._name(hint)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attributes))
        return out

    def nodes_n(self, op: str, inputs: list[str], hint: str, n: int, **attributes: Any) -> list[str]:
        """A node with ``n`` outputs (Split); returns their names."""
        outs = [self._name(hint) for _ in range(n)]
        self.nodes.append(self.helper.make_node(op, inputs, outs, name=outs[0], **attributes))
        return outs


def _w(t: Any) -> np.ndarray:
    return t.detach().numpy().astype(np.float32)


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def linear(g: Graph, m: nn.Linear, x: str, shape: tuple) -> str:
    """y = x Wᵀ + b."""
    if len(shape) == 2:
        inputs = [x, g.const(_w(m.weight), "weight")] + ([] if m.bias is None else [g.const(_w(m.bias), "bias")])
        return g.node("Gemm", inputs, "linear", transB=1)
    y = g.node("MatMul", [x, g.const(_w(m.weight).T, "weight_t")], "matmul")
    return y if m.bias is None else g.node("Add", [y, g.const(_w(m.bias), "bias")], "linear")


def conv2d(g: Graph, m: nn.Conv2d, x: str, shape: tuple) -> str:
    """Cross-correlation, as PyTorch's Conv2d (zero padding; other padding modes as a Pad node first)."""
    kh, kw = m.kernel_size
    if m._padding == "valid":
        pads = [0, 0, 0, 0]
    elif m._padding == "same":  # total d(k − 1) per side pair, the extra one after, as forward does
        (t, b), (left, r) = [
            (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(m.kernel_size, m.dilation)
        ]
        pads = [t, left, b, r]
    else:
        ph, pw = m._padding
        pads = [ph, pw, ph, pw]
    if m.padding_mode != "zeros" and any(pads):
        modes = {"reflect": "reflect", "replicate": "edge"}
        if m.padding_mode not in modes:
            raise UnsupportedLayerError(f"onnx.export: Conv2d padding_mode={m.padding_mode!r} has no ONNX Pad mode")
        onnx_pads = g.const(np.array([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], np.int64), "pads")
        x, pads = g.node("Pad", [x, onnx_pads], "pad", mode=modes[m.padding_mode]), [0, 0, 0, 0]
    inputs = [x, g.const(_w(m.weight), "weight")] + ([] if m.bias is None else [g.const(_w(m.bias), "bias")])
    return g.node("Conv", inputs, "conv", kernel_shape=[kh, kw], strides=list(m.stride), pads=pads,
                  dilations=list(m.dilation), group=m.groups)  # fmt: skip


def _pool(op: str, **extra: Any) -> Callable:
    def emit(g: Graph, m: Any, x: str, shape: tuple) -> str:
        kernel, stride, padding = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
        return g.node(op, [x], op.lower(), kernel_shape=list(kernel), strides=list(stride),
                      pads=[padding[0], padding[1], padding[0], padding[1]], **extra)  # fmt: skip

    return emit


def _unary(op: str) -> Callable:
    def emit(g: Graph, m: Any, x: str, shape: tuple) -> str:
        return g.node(op, [x], op.lower())

    return emit


def _gelu_nodes(g: Graph, x: str, approximate: str) -> str:
    half = g.const(np.array(0.5, np.float32), "half")
    one = g.const(np.array(1.0, np.float32), "one")
    if approximate == "tanh":  # ½x(1 + tanh(√(2/π)(x + 0.044715 x³)))
        cube = g.node("Mul", [x, g.node("Mul", [x, x], "x2")], "x3")
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(np.array(0.044715, np.float32), "c")], "cx3")], "in")
        t = g.node(
            "Tanh", [g.node("Mul", [inner, g.const(np.array(math.sqrt(2 / math.pi), np.float32), "k")], "kx")], "t"
        )
    else:  # ½x(1 + erf(x/√2))
        t = g.node("Erf", [g.node("Div", [x, g.const(np.array(math.sqrt(2.0), np.float32), "sqrt2")], "xs")], "erf")
    return g.node("Mul", [g.node("Mul", [x, half], "hx"), g.node("Add", [t, one], "1p")], "gelu")


def gelu(g: Graph, m: nn.GELU, x: str, shape: tuple) -> str:
    """x Φ(x) with Φ the normal CDF (or its tanh approximation)."""
    return _gelu_nodes(g, x, m.approximate)


def leaky_relu(g: Graph, m: nn.LeakyReLU, x: str, shape: tuple) -> str:
    """x where x > 0, negative_slope · x elsewhere."""
    return g.node("LeakyRelu", [x], "leaky_relu", alpha=float(m.negative_slope))


def _softmax_like(op: str) -> Callable:
    def emit(g: Graph, m: Any, x: str, shape: tuple) -> str:
        dim = m.dim if m.dim is not None else (0 if len(shape) in (0, 1, 3) else 1)
        return g.node(op, [x], op.lower(), axis=int(dim))

    return emit


def flatten(g: Graph, m: nn.Flatten, x: str, shape: tuple) -> str:
    """Dims start_dim..end_dim merged into one."""
    start, end = m.start_dim % len(shape), m.end_dim % len(shape)
    if end == len(shape) - 1 and start <= 1:
        return g.node("Flatten", [x], "flatten", axis=start)
    target = [0] * start + [-1] + list(shape[end + 1 :])  # 0 copies a dim (so the batch may vary)
    return g.node("Reshape", [x, g.const(np.array(target, np.int64), "shape")], "flatten")


def batch_norm(g: Graph, m: Any, x: str, shape: tuple) -> str:
    """(x − running mean) / √(running var + ε) · γ + β (eval mode)."""
    if m.running_mean is None:
        raise UnsupportedLayerError(
            f"onnx.export: {type(m).__name__}(track_running_stats=False) normalises with batch statistics even "
            "in eval mode; ONNX's BatchNormalization needs running statistics"
        )
    c = m.num_features
    gamma = _w(m.weight) if m.weight is not None else np.ones(c, np.float32)
    beta = _w(m.bias) if getattr(m, "bias", None) is not None else np.zeros(c, np.float32)
    inputs = [x] + [g.const(a, n) for a, n in ((gamma, "gamma"), (beta, "beta"))]
    inputs += [g.const(_w(m.running_mean), "mean"), g.const(_w(m.running_var), "var")]
    return g.node("BatchNormalization", inputs, "batch_norm", epsilon=float(m.eps))


def layer_norm(g: Graph, m: nn.LayerNorm, x: str, shape: tuple) -> str:
    """(x − mean) / √(var + ε) · γ + β over the last len(normalized_shape) dims."""
    norm_shape = tuple(m.normalized_shape)
    gamma = _w(m.weight) if m.weight is not None else np.ones(norm_shape, np.float32)
    beta = _w(m.bias) if getattr(m, "bias", None) is not None else np.zeros(norm_shape, np.float32)
    return g.node("LayerNormalization", [x, g.const(gamma, "gamma"), g.const(beta, "beta")], "layer_norm",
                  axis=-len(norm_shape), epsilon=float(m.eps))  # fmt: skip


def identity(g: Graph, m: Any, x: str, shape: tuple) -> str:
    """y = x (Dropout in eval mode, Identity)."""
    return g.node("Identity", [x], "identity")


def embedding(g: Graph, m: nn.Embedding, x: str, shape: tuple) -> str:
    """Row indices[i] of the weight, for every index."""
    return g.node("Gather", [g.const(_w(m.weight), "weight"), x], "embedding", axis=0)


def _matmul_add(g: Graph, x: str, w: np.ndarray, b: np.ndarray | None, hint: str) -> str:
    y = g.node("MatMul", [x, g.const(w.T, f"{hint}_w")], hint)
    return y if b is None else g.node("Add", [y, g.const(b, f"{hint}_b")], hint)


def attention(g: Graph, m: nn.MultiheadAttention, x: str, shape: tuple) -> str:
    """Self-attention (query = key = value, no masks): the heads' softmax(q kᵀ/√d) v mixed by out_proj."""
    if len(shape) != 3:
        raise UnsupportedLayerError("onnx.export: MultiheadAttention is exported for 3-D (batched) inputs")
    e, h, d = m.embed_dim, m.num_heads, m.head_dim
    if not m.batch_first:  # (L, N, E) → (N, L, E)
        x = g.node("Transpose", [x], "to_batch_first", perm=[1, 0, 2])
    bias = None if m.in_proj_bias is None else _w(m.in_proj_bias)
    qkv = _matmul_add(g, x, _w(m.in_proj_weight), bias, "in_proj")
    q, k, v = g.nodes_n("Split", [qkv, g.const(np.array([e, e, e], np.int64), "split")], "qkv", 3, axis=-1)
    heads = g.const(np.array([0, 0, h, d], np.int64), "heads")
    q, k, v = (g.node("Reshape", [t, heads], "split_heads") for t in (q, k, v))
    q = g.node("Transpose", [q], "q", perm=[0, 2, 1, 3])  # (N, h, L, d)
    k = g.node("Transpose", [k], "k_t", perm=[0, 2, 3, 1])  # (N, h, d, L)
    v = g.node("Transpose", [v], "v", perm=[0, 2, 1, 3])
    scores = g.node("Div", [g.node("MatMul", [q, k], "qk"), g.const(np.array(math.sqrt(d), np.float32), "sqrt_d")],
                    "scores")  # fmt: skip
    out = g.node("MatMul", [g.node("Softmax", [scores], "weights", axis=-1), v], "heads_out")
    out = g.node("Reshape", [g.node("Transpose", [out], "merge", perm=[0, 2, 1, 3]),
                             g.const(np.array([0, 0, e], np.int64), "embed")], "concat_heads")  # fmt: skip
    out_b = None if m.out_proj.bias is None else _w(m.out_proj.bias)
    out = _matmul_add(g, out, _w(m.out_proj.weight), out_b, "out_proj")
    return out if m.batch_first else g.node("Transpose", [out], "to_seq_first", perm=[1, 0, 2])


def encoder_layer(g: Graph, m: nn.TransformerEncoderLayer, x: str, shape: tuple) -> str:
    """Post-norm: norm1(x + sa(x)), norm2(· + ff(·)); pre-norm: x + sa(norm1(x)), · + ff(norm2(·))."""
    if m.activation is F.relu:
        act: Callable[[str], str] = lambda t: g.node("Relu", [t], "relu")  # noqa: E731
    elif m.activation is F.gelu:
        act = lambda t: _gelu_nodes(g, t, "none")  # noqa: E731
    else:
        raise UnsupportedLayerError(f"onnx.export: TransformerEncoderLayer activation {m.activation!r} (use relu/gelu)")

    def sa(t: str) -> str:
        return attention(g, m.self_attn, t, shape)

    def ff(t: str) -> str:
        return linear(g, m.linear2, act(linear(g, m.linear1, t, shape)), shape)

    if m.norm_first:
        x = g.node("Add", [x, sa(layer_norm(g, m.norm1, x, shape))], "residual")
        return g.node("Add", [x, ff(layer_norm(g, m.norm2, x, shape))], "residual")
    x = layer_norm(g, m.norm1, g.node("Add", [x, sa(x)], "residual"), shape)
    return layer_norm(g, m.norm2, g.node("Add", [x, ff(x)], "residual"), shape)


TRANSLATIONS: dict[type, Callable] = {
    nn.Linear: linear,
    nn.Conv2d: conv2d,
    nn.MaxPool2d: _pool("MaxPool"),
    nn.AvgPool2d: _pool("AveragePool", count_include_pad=1),
    nn.ReLU: _unary("Relu"),
    nn.Sigmoid: _unary("Sigmoid"),
    nn.Tanh: _unary("Tanh"),
    nn.GELU: gelu,
    nn.LeakyReLU: leaky_relu,
    nn.Softmax: _softmax_like("Softmax"),
    nn.LogSoftmax: _softmax_like("LogSoftmax"),
    nn.Flatten: flatten,
    nn.BatchNorm1d: batch_norm,
    nn.BatchNorm2d: batch_norm,
    nn.LayerNorm: layer_norm,
    nn.Dropout: identity,
    nn.Identity: identity,
    nn.Embedding: embedding,
    nn.MultiheadAttention: attention,
    nn.TransformerEncoderLayer: encoder_layer,
}
