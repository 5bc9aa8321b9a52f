"""Dive into Deep Learning's PyTorch chapters (tests/programs/d2l_*.py: the book's code cells with only the
imports changed, on our trimmed copy of its d2l helper library and generated data) run with tinygrad_edu and
learn; where torch is installed, the same files under PyTorch (imports changed back) learn as much."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).with_name("programs")
BACK_TO_TORCH = [("import tinygrad_edu as torch", "import torch"),
                 ("import tinygrad_edu.nn.functional as F", "import torch.nn.functional as F"),
                 ("from tinygrad_edu import nn", "from torch import nn"),
                 ("from tinygrad_edu.nn import functional as F", "from torch.nn import functional as F"),
                 ("from tinygrad_edu.utils import data", "from torch.utils import data"),
                 ("from tinygrad_edu.distributions.multinomial import Multinomial",
                  "from torch.distributions.multinomial import Multinomial")]  # fmt: skip


def _run(folder: Path, chapter: str, shrink: int, epochs: int, cwd: Path) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg",
               D2L_SHRINK=str(shrink), D2L_MAX_EPOCHS=str(epochs))  # fmt: skip
    done = subprocess.run([sys.executable, str(folder / "d2l_run.py"), str(folder / chapter)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    if folder == PROGRAMS:  # ours warns of nothing (PyTorch's DataLoader warns that 4 workers exceed 2 cores)
        assert "Warning" not in done.stderr, done.stderr
    return done.stdout


def chapter(tmp_path: Path, name: str, shrink: int = 1, epochs: int = 10**9) -> tuple[str, str | None]:
    """The chapter's output under tinygrad_edu, and under PyTorch (None without torch)."""
    ours = _run(PROGRAMS, name, shrink, epochs, tmp_path)
    if importlib.util.find_spec("torch") is None:
        return ours, None
    (tmp_path / "torch").mkdir()
    for f in PROGRAMS.glob("d2l_*.py"):
        source = f.read_text()
        for a, b in BACK_TO_TORCH:
            source = re.sub(rf"^{re.escape(a)}$", b, source, flags=re.M)
        (tmp_path / "torch" / f.name).write_text(source)
    return ours, _run(tmp_path / "torch", name, shrink, epochs, tmp_path)


def curves(out: str) -> dict[str, float]:
    """The last point of each curve the chapter's model drew (d2l_run.py's 'model model: ...' line)."""
    line = [x for x in out.splitlines() if x.startswith("model model:")][-1]
    return {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)", line.split(":", 1)[1])}


def errors(out: str) -> list[float]:
    """|error| of the estimated w and b the regression chapters print."""
    return [abs(float(x)) for x in re.findall(r"-?\d+\.\d+", " ".join(re.findall(r"error in estimating .*", out)))]


@pytest.mark.parametrize("name", ["d2l_linear_regression_scratch.py", "d2l_linear_regression_concise.py"])
def test_linear_regression_recovers_w_and_b(tmp_path, name):
    ours, theirs = chapter(tmp_path, name)
    assert len(errors(ours)) == 3 and max(errors(ours)) < 0.3, ours  # w = (2, −3.4), b = 4.2 after 3 epochs
    if theirs is not None:  # PyTorch, same file: val loss 0.055 (scratch), 0.0004 (concise); ours 0.043, 0.0004
        assert curves(ours)["val_loss"] < 2 * curves(theirs)["val_loss"] + 0.01, (ours, theirs)


@pytest.mark.parametrize("name", ["d2l_softmax_regression_scratch.py", "d2l_softmax_regression_concise.py",
                                  "d2l_mlp_implementation.py"])  # fmt: skip
def test_softmax_regression_and_the_mlp_classify(tmp_path, name):
    """6,000 generated 28×28 images of 10 classes, 3 epochs (the book: 60,000 Fashion-MNIST images, 10 epochs)."""
    ours, theirs = chapter(tmp_path, name, shrink=10, epochs=3)
    assert curves(ours)["val_acc"] > 0.7, ours  # a uniform guess: 0.1
    if theirs is not None:  # PyTorch: val acc 0.85, 0.84, 0.84; ours 0.84, 0.84, 0.83
        assert abs(curves(ours)["val_acc"] - curves(theirs)["val_acc"]) < 0.08, (ours, theirs)
        assert abs(curves(ours)["val_loss"] - curves(theirs)["val_loss"]) < 0.25, (ours, theirs)


@pytest.mark.parametrize("name", ["d2l_attention_scoring.py", "d2l_multihead_attention.py", "d2l_self_attention.py"])
def test_the_attention_chapters_run_their_shape_checks(tmp_path, name):
    """They train nothing: each runs its layers on toy inputs through d2l.check_shape's assertions and heatmaps."""
    ours, theirs = chapter(tmp_path, name)
    if theirs is not None:  # masked_softmax's zeros sit where PyTorch's do (the inputs are random)
        assert ours.count("0.0000") == theirs.count("0.0000"), (ours, theirs)


def test_lenet_runs_and_its_layers_have_the_books_shapes(tmp_path):
    """LeNet with sigmoids sits on a plateau (loss ln 10 = 2.30) for its first few hundred steps, in PyTorch too:
    in a test's budget (2 epochs of 23 steps) both are still on it, at the same loss."""
    ours, theirs = chapter(tmp_path, "d2l_lenet.py", shrink=20, epochs=2)
    shapes = re.findall(r"output shape:\t \(([\d, ]+)\)", ours)
    assert shapes[2] == "1, 6, 14, 14" and shapes[5] == "1, 16, 5, 5" and shapes[-1] == "1, 10", ours
    assert abs(curves(ours)["val_loss"] - 2.30) < 0.05, ours
    if theirs is not None:
        assert abs(curves(ours)["val_loss"] - curves(theirs)["val_loss"]) < 0.03, (ours, theirs)


def test_resnet18_runs_on_96_pixel_images(tmp_path):
    """ResNet-18 on (1, 96, 96) images: the book's layer summary, then one epoch on 30 images (no PyTorch run: the
    point here is that it trains at all, in a few seconds)."""
    ours = _run(PROGRAMS, "d2l_resnet.py", 2000, 1, tmp_path)
    summary = re.findall(r"Sequential output shape:\t \(([\d, ]+)\)", ours)
    assert summary == ["1, 64, 24, 24", "1, 64, 24, 24", "1, 128, 12, 12", "1, 256, 6, 6", "1, 512, 3, 3", "1, 10"]
    assert 0 < curves(ours)["val_loss"] < 5, ours


def test_the_transformer_translates(tmp_path):
    """The encoder–decoder Transformer on the generated English–French corpus, 8 of the book's 30 epochs, then its
    four test sentences: greedy decoding and BLEU. (No PyTorch run here, for time: after 10 epochs PyTorch gives
    BLEU 1, 1, 1, 0.75 and train loss 0.021, ours 1, 1, 1, 0.52 and 0.023; after all 30 both translate the four
    exactly, train loss 0.0028 and 0.0032.)"""
    ours = _run(PROGRAMS, "d2l_transformer.py", 1, 8, tmp_path)
    bleu = [float(x) for x in re.findall(r"bleu,([\d.]+)", ours)]
    assert len(bleu) == 4 and sum(bleu) / 4 > 0.6 and curves(ours)["train_loss"] < 0.2, ours


QUICK = ["d2l_probability.py", "d2l_ndarray.py", "d2l_linear_algebra.py", "d2l_calculus.py", "d2l_autograd.py",
         "d2l_oo_design.py",
         "d2l_synthetic_regression_data.py", "d2l_weight_decay.py", "d2l_classification.py", "d2l_dropout.py",
         "d2l_numerical_stability_and_init.py", "d2l_model_construction.py", "d2l_parameters.py",
         "d2l_init_param.py", "d2l_lazy_init.py", "d2l_custom_layer.py", "d2l_read_write.py", "d2l_conv_layer.py",
         "d2l_padding_and_strides.py", "d2l_channels.py", "d2l_pooling.py", "d2l_batch_norm.py",
         "d2l_queries_keys_values.py", "d2l_attention_pooling.py", "d2l_bahdanau_attention.py",
         "d2l_vision_transformer.py"]  # fmt: skip
HEAVY = ["d2l_alexnet.py", "d2l_vgg.py", "d2l_nin.py", "d2l_googlenet.py", "d2l_densenet.py"]


@pytest.mark.parametrize("name", QUICK)
def test_the_other_chapters_run_to_the_end(tmp_path, name):
    """The preliminaries (probability: torch.distributions' Multinomial), the builders' guide, convolutions, batch
    norm, weight decay, dropout, attention pooling, Bahdanau attention, the vision Transformer: every cell runs
    (their asserts and d2l.check_shape included), and whatever they train, on 200 images or 1 epoch, ends at a
    finite loss."""
    if name == "d2l_calculus.py":
        pytest.importorskip("matplotlib_inline")  # the chapter imports it itself
    out = _run(PROGRAMS, name, 300, 1, tmp_path)
    if "model model:" in out:
        assert all(0 <= v < 1e3 for v in curves(out).values()), out


@pytest.mark.skipif(not os.environ.get("D2L_HEAVY"), reason="minutes each on a CPU: set D2L_HEAVY=1 to run them")
@pytest.mark.parametrize("name", HEAVY)
def test_the_big_convnets_train_an_epoch(tmp_path, name):
    """AlexNet, VGG, NiN, GoogLeNet, DenseNet on 224×224 (96×96) images: 200 images, 1 epoch."""
    out = _run(PROGRAMS, name, 300, 1, tmp_path)
    assert all(0 <= v < 1e3 for v in curves(out).values()), out
