"""The pictures: the computation graph and the training curves render to PNG files."""

from __future__ import annotations

import tinygrad_edu as tge
from tinygrad_edu import viz


def _small_graph():
    w = tge.randn(3, 2, requires_grad=True)
    b = tge.zeros(2, requires_grad=True)
    x = tge.randn(4, 3)
    return ((x @ w + b).sigmoid()).mean(), w, b, x


def test_draw_graph_writes_a_png_and_shows_every_op(tmp_path):
    loss, w, b, x = _small_graph()
    path = tmp_path / "graph.png"
    fig = viz.draw_graph(loss, names={"w": w, "b": b, "x": x}, path=path)
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"MatMul", "Add", "Sigmoid", "Sum", "Div"} <= texts
    assert any(t.startswith("w\n3×2") for t in texts)


def test_draw_graph_still_works_after_backward():
    loss, *_ = _small_graph()
    loss.backward()
    assert viz.draw_graph(loss) is not None


def test_to_dot_names_ops_and_edges():
    loss, w, *_ = _small_graph()
    dot = viz.to_dot(loss, names={"w": w})
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    assert 'label="MatMul"' in dot and 'label="w\\n3×2"' in dot
    # 5 ops, each with an edge to its output, plus one edge per tensor input: MatMul 2, Add 2, Sigmoid 1,
    # Sum 1, Div 1 (the divisor n is a constant, not a tensor)
    assert dot.count("->") == 5 + 7


def test_plot_history_accepts_rows_or_columns(tmp_path):
    rows = [{"epoch": i, "train_loss": 1 / i, "val_loss": 1.2 / i, "val_acc": 1 - 1 / (i + 1)} for i in range(1, 6)]
    fig = viz.plot_history(rows, path=tmp_path / "h.png")
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["train_loss", "val_loss"]
    cols = {"train_loss": [3.0, 2.0, 1.0]}
    fig = viz.plot_history(cols)
    assert len(fig.axes) == 1 and list(fig.axes[0].lines[0].get_ydata()) == [3.0, 2.0, 1.0]
