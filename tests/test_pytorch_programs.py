"""PyTorch's own example programs (tests/programs/, adapted from github.com/pytorch/examples: imports and data
only, see each file's header) run with tinygrad_edu, for a few steps each, and learn."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).with_name("programs")


def run(tmp_path: Path, program: str, *args: str, allowed_warning: str | None = None) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(PROGRAMS / program), *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    stderr = done.stderr if allowed_warning is None else "".join(
        line for line in done.stderr.splitlines(keepends=True) if allowed_warning not in line
    )  # fmt: skip
    assert "Warning" not in stderr, done.stderr
    return done.stdout


def numbers(pattern: str, text: str) -> list[float]:
    return [float(x) for x in re.findall(pattern, text)]


def test_mnist(tmp_path):
    out = run(tmp_path, "mnist_main.py", "--epochs", "1", "--dry-run", "--test-batch-size", "32", "--save-model")
    assert "Train Epoch: 1 [0/256 (0%)]" in out and "Test set: Average loss:" in out
    assert (tmp_path / "mnist_cnn.pt").stat().st_size > 1_000_000  # the state dict: 1.2 M parameters


def test_mnist_rnn(tmp_path):
    """An LSTM reading the image row by row; its nn.Dropout2d on (N, 64) features warns exactly as PyTorch's does."""
    out = run(tmp_path, "mnist_rnn_main.py", "--epochs", "3", "--lr", "1.0", "--log-interval", "100",
              allowed_warning="dropout2d: Received a 2-D input to dropout2d, which is deprecated")  # fmt: skip
    losses = numbers(r"Test set: Average loss: ([\d.]+)", out)
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2], out  # PyTorch on the same data: 2.304, 2.299, 2.294


def test_vae(tmp_path):
    (tmp_path / "results").mkdir()
    out = run(tmp_path, "vae_main.py", "--epochs", "2", "--log-interval", "1")
    train, test = numbers(r"Epoch: \d Average loss: ([\d.]+)", out), numbers(r"Test set loss: ([\d.]+)", out)
    assert len(train) == len(test) == 2 and train[1] < train[0] and test[1] < test[0]
    assert sorted(p.name for p in (tmp_path / "results").iterdir())[0] == "reconstruction_1.npy"


def test_regression(tmp_path):
    out = run(tmp_path, "regression_main.py")
    assert float(re.search(r"Loss: ([\d.]+) after \d+ batches", out).group(1)) < 1e-3
    learned, actual = (numbers(r"([+-][\d.]+)", line) for line in out.splitlines()[-2:])
    assert max(abs(a - b) for a, b in zip(learned, actual)) < 0.5


def test_time_sequence_prediction_with_lstm_cells_and_lbfgs(tmp_path):
    run(tmp_path, "sine_generate.py")
    out = run(tmp_path, "sine_train.py", "--steps", "1")
    losses = [float(line.split()[1]) for line in out.splitlines() if line.startswith("loss:")]
    assert len(losses) > 5 and losses[-1] < losses[0] / 10  # LBFGS's inner iterations
    assert "test loss:" in out and (tmp_path / "predict0.pdf").exists()


@pytest.mark.parametrize("model", ["LSTM", "GRU", "Transformer"])
def test_word_language_model(tmp_path, model):
    rng = random.Random(0)
    words = "the cat sat on a mat and the dog ran to the park while a bird sang in the tree".split()
    (tmp_path / "tiny").mkdir()
    for name, lines in (("train", 60), ("valid", 15), ("test", 15)):
        text = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) for _ in range(lines))
        (tmp_path / "tiny" / f"{name}.txt").write_text(text + "\n")
    out = run(tmp_path, "wlm_main.py", "--data", "tiny", "--epochs", "2", "--emsize", "16", "--nhid", "16",
              "--bptt", "8", "--batch_size", "4", "--log-interval", "5", "--model", model, "--nhead", "2", "--lr", "1",
              "--save", "model.pt")  # fmt: skip
    valid = numbers(r"valid ppl\s+([\d.]+)", out)
    test = numbers(r"test ppl\s+([\d.]+)", out)
    assert len(valid) == 2 and len(test) == 1 and test[0] < 20  # 19 words and <eos>: a uniform guess has 20
