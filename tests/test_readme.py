"""The README's example is code a learner will paste: it must run as printed."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_pytorch_style_loop_in_the_readme_runs_and_learns(capsys):
    text = README.read_text()
    block = re.search(r"## A PyTorch-style training loop\n\n```python\n(.*?)```", text, re.S)
    assert block, "the README lost its example"
    exec(compile(block.group(1), str(README), "exec"), {"__name__": "readme"})
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    assert accuracy > 0.95


def test_the_first_lines_give_the_two_set_up_commands():
    first = README.read_text().split("## ")[0]
    assert 'pip install -e ".[dev]" && tinygrad-edu train' in first
    assert 'pip install -e ".[dev]" && pytest' in first
