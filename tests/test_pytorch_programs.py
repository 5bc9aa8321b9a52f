"""PyTorch's own example programs (tests/programs/, adapted from github.com/pytorch/examples: imports and data
only, see each file's header) run with tinygrad_edu, for a few steps each, and learn."""

from __future__ import annotations

import importlib.util
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


def makemore(tmp_path: Path, program: str, steps: int) -> tuple[str, str | None]:
    """Karpathy's makemore notebook `program` (tests/programs/, its code cells with only the imports changed) for
    `steps` steps on the generated names.txt, and, where torch is installed, the same file under real PyTorch."""
    run(tmp_path, "names_generate.py")
    os.environ["MAKEMORE_STEPS"] = str(steps)
    try:
        ours = run(tmp_path, program)
        if importlib.util.find_spec("torch") is None:
            return ours, None
        source = (PROGRAMS / program).read_text()
        source = source.replace("import tinygrad_edu.nn.functional as F", "import torch.nn.functional as F")
        source = source.replace("import tinygrad_edu as torch", "import torch")
        (tmp_path / f"torch_{program}").write_text(source)
        env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
        done = subprocess.run([sys.executable, f"torch_{program}"], capture_output=True, text=True, timeout=300,
                              env=env, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return ours, done.stdout
    finally:
        del os.environ["MAKEMORE_STEPS"]


def test_makemore_mlp(tmp_path):
    """makemore part 2: Bengio et al.'s MLP with its embedding table C[X], emb.view, manual SGD on p.data,
    torch.Generator().manual_seed, torch.multinomial(generator=), 10**tensor learning rates."""
    ours, theirs = makemore(tmp_path, "makemore_mlp.py", 6000)
    train, dev = numbers(r"tensor\(([\d.]+), grad_fn", ours)
    assert train < 2.6 and dev < 2.7, ours  # ln 27 = 3.30 is a uniform guess
    samples = ours.strip().splitlines()[-20:]
    assert all(s.endswith(".") and s[:-1].isalpha() for s in samples), samples
    if theirs is not None:  # PyTorch, same file and steps (another random stream): 2.32 / 2.45; ours 2.34 / 2.46
        torch_train, torch_dev = numbers(r"tensor\(([\d.]+), grad_fn", theirs)
        assert abs(train - torch_train) < 0.25 and abs(dev - torch_dev) < 0.25, (ours, theirs)


def test_makemore_batchnorm(tmp_path):
    """makemore part 3: manual batch norm with running statistics under torch.no_grad, Kaiming-scaled init,
    a 6-layer MLP of hand-written Linear/BatchNorm1d/Tanh classes, retain_grad on activations, their statistics
    and histograms, update:data ratios, @torch.no_grad() as a decorator."""
    ours, theirs = makemore(tmp_path, "makemore_bn.py", 2000)
    losses = [float(x) for x in re.findall(r"^(?:train|val) ([\d.]+)$", ours, re.M)]
    assert len(losses) == 4 and max(losses) < 2.6, ours  # the 1-layer and the 6-layer network, train and val
    saturated = numbers(r"saturated: ([\d.]+)%", ours)
    assert len(saturated) == 5 and all(0 < s < 10 for s in saturated), ours  # gain 1 with batch norm: ~2 %
    stds = dict(re.findall(r"^(\w+ (?:grad )?std):\s+([\d.e+-]+)$", ours, re.M))
    assert abs(float(stds["out std"]) - 1) < 1e-3 and abs(float(stds["c std"]) / 1000**0.5 - 1) < 0.1, stds
    assert abs(float(stds["x grad std"]) * 1000**0.5 - 1) < 0.1, stds  # batch norm divides the gradient by std(x)
    if theirs is not None:  # PyTorch, same file and steps: 2.25 / 2.27 and 2.25 / 2.27; ours 2.20 / 2.22, 2.28 / 2.30
        torch_losses = [float(x) for x in re.findall(r"^(?:train|val) ([\d.]+)$", theirs, re.M)]
        assert all(abs(a - b) < 0.25 for a, b in zip(losses, torch_losses)), (ours, theirs)


def test_makemore_manual_backprop_is_bit_exact(tmp_path):
    """makemore part 4: every gradient written out by hand (cross-entropy, batch norm, tanh, the embedding) equals
    autograd's bit for bit (the notebook's PyTorch run: the same; on this data PyTorch's own matmul rounding leaves
    one more approximate); then the net trains on the hand-written backward alone."""
    ours, theirs = makemore(tmp_path, "makemore_backprop.py", 1000)
    checks = re.findall(r"^(\w+)\s+\| exact: (True|False)\s+\| approximate: (True|False)", ours, re.M)
    assert len(checks) == 28 and all(c[2] == "True" for c in checks), ours
    assert [c[0] for c in checks if c[1] == "False"] == ["logits", "hprebn"], ours  # the two "in one go" formulas
    losses = [float(x) for x in re.findall(r"^(?:train|val) ([\d.]+)$", ours, re.M)]
    assert len(losses) == 2 and max(losses) < 2.6, ours
    if theirs is not None:  # PyTorch, same file: all 28 approximate too (its matmuls make hpreact's inexact here)
        theirs_checks = re.findall(r"^\w+\s+\| exact: (?:True|False)\s+\| approximate: (True|False)", theirs, re.M)
        assert re.findall(r"^(\w+)\s+\| exact", theirs, re.M) == [c[0] for c in checks]
        assert theirs_checks == ["True"] * 28, theirs


def test_makemore_wavenet(tmp_path):
    """makemore part 5: the hierarchical (WaveNet-like) MLP with hand-written Embedding, FlattenConsecutive,
    BatchNorm1d over (N, T, C) and Sequential classes, a context of 8 characters."""
    ours, theirs = makemore(tmp_path, "makemore_wavenet.py", 2000)
    losses = [float(x) for x in re.findall(r"^(?:train|val) ([\d.]+)$", ours, re.M)]
    assert len(losses) == 2 and max(losses) < 2.4, ours
    if theirs is not None:
        torch_losses = [float(x) for x in re.findall(r"^(?:train|val) ([\d.]+)$", theirs, re.M)]
        assert all(abs(a - b) < 0.25 for a, b in zip(losses, torch_losses)), (ours, theirs)
