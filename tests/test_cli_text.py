"""The CLI on text: train --dataset sentiment --model bow|bert, evaluate, predict sentences; mistakes are one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinygrad_edu import cli
from tinygrad_edu.tasks import load_task


def train(tmp_path, model: str, *extra: str, epochs: int = 2) -> int:
    return cli.main(["train", "--dataset", "sentiment", "--model", model, "--epochs", str(epochs), "--out",
                     str(tmp_path), "--no-progress", *extra])  # fmt: skip


def test_the_sentiment_task_is_token_ids_with_a_training_vocabulary():
    task = load_task("sentiment", seed=0)
    x, y = task.train
    assert x.dtype == np.int64 and x.shape[1:] == (32,) and task.classes == ["negative", "positive"]
    assert len(x) + len(task.val[0]) + len(task.test[0]) == 2000
    assert (x[:, 0] == task.tokenizer.cls_token_id).all() and task.vocab_size == len(task.tokenizer)
    assert task.preprocess(["the plot was good"])[0, :6].tolist() == task.tokenizer.encode("the plot was good")


@pytest.mark.parametrize("model", ["bow", "bert"])
def test_train_evaluate_predict_text_models(tmp_path, capsys, model):
    assert train(tmp_path, model, "--batch-size", "64", epochs=1 if model == "bert" else 2) == 0
    out = capsys.readouterr().out
    assert "sentiment: 1440 train / 160 val / 400 test samples, 2 classes" in out and "confusion matrix" in out
    accuracy = json.loads((tmp_path / "metrics.json").read_text())["accuracy"]
    assert cli.main(["evaluate", str(tmp_path / "checkpoint.npz")]) == 0
    assert f"accuracy {accuracy:.4f}" in capsys.readouterr().out  # the same split, vocabulary and weights
    assert cli.main(["predict", str(tmp_path / "checkpoint.npz"), "--text", "good but boring",
                     "--text", "Not bad at all!"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("sample 0: class ") and "'good but boring'" in lines[0]
    (tmp_path / "s.txt").write_text("the plot was dull\n\nthe cast was great\n", encoding="utf-8")
    assert cli.main(["predict", str(tmp_path / "checkpoint.npz"), "--input", str(tmp_path / "s.txt")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_resume_works_for_text(tmp_path, capsys):
    assert train(tmp_path, "bow") == 0
    assert cli.main(["train", "--resume", str(tmp_path / "checkpoint.npz"), "--epochs", "3", "--no-progress"]) == 0
    assert "epoch   3/3" in capsys.readouterr().out


def test_mistakes_are_one_line(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "sentiment", "--model", "mlp", "--out", str(tmp_path)]) == 1
    assert "use --model bow or --model bert" in capsys.readouterr().err
    assert cli.main(["train", "--model", "bert", "--out", str(tmp_path)]) == 1
    assert "--dataset sentiment" in capsys.readouterr().err
    assert train(tmp_path, "bow") == 0
    ckpt = str(tmp_path / "checkpoint.npz")
    (tmp_path / "bad.txt").write_bytes(b"good\n\xff bad\n")
    capsys.readouterr()
    assert cli.main(["predict", ckpt, "--input", str(tmp_path / "bad.txt")]) == 1
    err = capsys.readouterr().err
    assert "bad.txt: not valid UTF-8 at byte offset 5" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert cli.main(["predict", ckpt, "--input", str(tmp_path / "x.npy")]) == 2
    assert "one sentence per line" in capsys.readouterr().err
    digits = tmp_path / "digits"
    assert cli.main(["train", "--epochs", "1", "--out", str(digits), "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["predict", str(digits / "checkpoint.npz"), "--text", "good"]) == 2
    assert "--text is for models trained on sentences" in capsys.readouterr().err
