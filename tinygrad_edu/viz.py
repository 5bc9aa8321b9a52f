"""Pictures for learning: the computation graph behind a tensor, and training curves.

Both draw with matplotlib's object API on the Agg canvas (no window, no display needed) and
return the Figure; pass ``path`` to also save a PNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .tensor import Tensor


def _graph(root: Tensor) -> tuple[list[Tensor], list[tuple[Tensor, Tensor]]]:
    """Every tensor that led to ``root`` (inputs before outputs) and the (input, output) edges."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # iterative depth-first search, like the backward walk
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        for p in t._ctx.parents if t._ctx is not None else ():
            if isinstance(p, Tensor) and id(p) not in seen:
                stack.append((p, False))
    edges = [(p, t) for t in order if t._ctx is not None for p in t._ctx.parents if isinstance(p, Tensor)]
    return order, edges


def _label(t: Tensor, names: Mapping[int, str]) -> str:
    shape = "×".join(map(str, t.shape)) or "scalar"
    name = names.get(id(t))
    value = f" = {t.item():.4g}" if t.numel() == 1 else ""
    return f"{name}\n{shape}{value}" if name else f"{shape}{value}"


def to_dot(root: Tensor, names: Mapping[str, Tensor] | None = None) -> str:
    """The graph in Graphviz's DOT language: tensors as boxes, ops as ellipses (render with `dot -Tpng`)."""
    by_id = {id(t): n for n, t in (names or {}).items()}
    order, _ = _graph(root)
    lines = ["digraph G {", "  rankdir=LR;"]
    for t in order:
        label = _label(t, by_id).replace("\n", "\\n")  # DOT spells a line break as \n
        lines.append(f'  t{id(t)} [shape=box, label="{label}"];')
        if t._ctx is not None:
            lines.append(f'  f{id(t)} [shape=ellipse, label="{t._ctx.name}"];')
            lines.append(f"  f{id(t)} -> t{id(t)};")
            for p in t._ctx.parents:
                if isinstance(p, Tensor):
                    lines.append(f"  t{id(p)} -> f{id(t)};")
    lines.append("}")
    return "\n".join(lines)


def draw_graph(root: Tensor, names: Mapping[str, Tensor] | None = None, path: str | Path | None = None) -> Any:
    """Draw the computation graph that produced ``root``: data flows left to right into the loss.

    Each tensor is a box (its shape, its value when it is a scalar, and its name when ``names``
    gives one, e.g. ``dict(model.named_parameters())``); each op is an oval named after its
    Function (Mul, MatMul, ...), whose backward is what ``root.backward()`` runs, right to left.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_id = {id(t): n for n, t in (names or {}).items()}
    order, _ = _graph(root)
    pos: dict[int, tuple[float, float]] = {}
    leaves = 0
    for t in order:  # inputs come first: a leaf gets the next row, a result sits right of its inputs
        parents = [p for p in t._ctx.parents if isinstance(p, Tensor)] if t._ctx is not None else []
        if not parents:
            pos[id(t)] = (0.0, -1.2 * leaves)
            leaves += 1
        else:
            x = 2 + max(pos[id(p)][0] for p in parents)
            pos[id(t)] = (x, sum(pos[id(p)][1] for p in parents) / len(parents))

    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    fig = Figure(figsize=(max(4.0, 1.1 * (max(xs) + 1)), max(2.0, 0.9 * (max(ys) - min(ys) + 1.5))))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    arrow = dict(arrowstyle="->", color="0.4", shrinkA=2, shrinkB=2)
    boxes = {}
    for t in order:
        x, y = pos[id(t)]
        boxes[id(t)] = ax.annotate(
            _label(t, by_id),
            (x, y),
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="round", fc="#dbe9f6" if t._ctx is None else "white", ec="0.3"),
        )
    for t in order:
        if t._ctx is None:
            continue
        x, y = pos[id(t)]
        op = ax.annotate(
            t._ctx.name,
            (x - 1, y),
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="ellipse", fc="#fde9c9", ec="0.3"),
        )
        ax.annotate("", (0, 0.5), xycoords=boxes[id(t)], xytext=(1, 0.5), textcoords=op, arrowprops=arrow)
        for p in t._ctx.parents:
            if isinstance(p, Tensor):
                ax.annotate("", (0, 0.5), xycoords=op, xytext=(1, 0.5), textcoords=boxes[id(p)], arrowprops=arrow)
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_title(
        f"computation graph of a {root._ctx.name if root._ctx else 'leaf'} output "
        f"({sum(t._ctx is not None for t in order)} ops)",
        fontsize=9,
    )
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def _as_columns(history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]]) -> dict[str, list[float]]:
    """Accept {"train_loss": [...], ...} or [{"train_loss": ..., ...} per epoch]."""
    if isinstance(history, Mapping):
        return {k: list(v) for k, v in history.items()}
    columns: dict[str, list[float]] = {}
    for row in history:
        for k, v in row.items():
            columns.setdefault(k, []).append(v)
    return columns


def plot_history(
    history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]], path: str | Path | None = None
) -> Any:
    """Plot training curves: every series whose name holds "loss" on the left, the rest (accuracy...) on the right.

    ``history`` is a dict of per-epoch lists, or a list of per-epoch dicts (as ``tinygrad-edu train``
    writes). An "epoch" column, if present, is the x axis.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = _as_columns(history)
    epochs = columns.pop("epoch", None)
    losses = {k: v for k, v in columns.items() if "loss" in k}
    others = {k: v for k, v in columns.items() if "loss" not in k and k not in ("lr", "seconds")}
    fig = Figure(figsize=(10 if others else 5, 3.6))
    FigureCanvasAgg(fig)
    panels = [("loss", losses)] + ([("metric", others)] if others else [])
    for i, (ylabel, series) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for name, ys in series.items():
            xs = epochs if epochs is not None else list(range(1, len(ys) + 1))
            ax.plot(xs, ys, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = ["draw_graph", "plot_history", "to_dot"]
