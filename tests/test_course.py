"""tinygrad_edu.course: what every lesson shares (sizes by mode, figures that are labelled, quoted ops)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from tinygrad_edu import course
from tinygrad_edu.ops.activation import Sigmoid


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(course, "out_dir", lambda: tmp_path)
    return tmp_path


def _plot(title: str = "t", xlabel: str = "x", ylabel: str = "y", lines: int = 1, legend: bool = False) -> Figure:
    fig = Figure()
    ax = fig.subplots()
    for i in range(lines):
        ax.plot([0, 1], [i, i + 1], label=f"line {i}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend()
    return fig


def test_sized_follows_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(course, "FAST", True)
    assert course.sized(full=30, fast=3) == 3
    monkeypatch.setattr(course, "FAST", False)
    assert course.sized(full=30, fast=3) == 30


def test_show_saves_a_labelled_figure(out: Path) -> None:
    path = course.show(_plot(lines=2, legend=True), "ok.png")
    assert path == out / "ok.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("fig", "message"),
    [
        (lambda: _plot(title=""), "without a title"),
        (lambda: _plot(xlabel=""), "needs both axis labels"),
        (lambda: _plot(ylabel=""), "needs both axis labels"),
        (lambda: _plot(lines=2), "no legend"),
    ],
)
def test_show_refuses_an_unlabelled_figure(out: Path, fig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        course.show(fig(), "bad.png")
    assert not (out / "bad.png").exists()


def test_show_accepts_images_and_their_colorbar_under_a_suptitle(out: Path) -> None:
    fig = Figure()
    ax = fig.subplots()
    image = ax.imshow(np.eye(3))
    fig.colorbar(image, ax=ax, label="value")
    fig.suptitle("an image")
    assert course.show(fig, "image.png").exists()


def test_quote_prints_an_ops_math_forward_and_backward(capsys: pytest.CaptureFixture[str]) -> None:
    text = course.quote(Sigmoid)
    assert "y = 1 / (1 + e^−x)" in text and "def forward" in text and "def backward" in text
    assert capsys.readouterr().out.strip() == text.strip()
