"""The command line: train writes its outputs, evaluate/predict read them, resume is exact, errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import cli
from tinygrad_edu.trainer import Config, Run


def train(tmp_path, *extra: str) -> int:
    return cli.main(["train", "--epochs", "2", "--out", str(tmp_path), "--no-progress", *extra])


def test_train_writes_checkpoint_history_curves_and_metrics(tmp_path, capsys):
    assert train(tmp_path) == 0
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "test: loss" in out and "confusion matrix" in out
    for name in ("checkpoint.npz", "history.csv", "history.json", "curves.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    history = json.loads((tmp_path / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert 0.5 < m["accuracy"] <= 1 and np.array(m["confusion_matrix"]).sum() == 360  # 20 % of 1797 digits


def test_evaluate_and_predict_read_the_checkpoint(tmp_path, capsys):
    train(tmp_path)
    trained = json.loads((tmp_path / "metrics.json").read_text())["accuracy"]
    capsys.readouterr()
    assert cli.main(["evaluate", str(tmp_path / "checkpoint.npz")]) == 0
    assert f"accuracy {trained:.4f}" in capsys.readouterr().out  # the same split, the same model
    assert cli.main(["predict", str(tmp_path / "checkpoint.npz"), "--samples", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"sample {i}: class ") for i, line in enumerate(lines))


def test_predict_reads_raw_samples_from_a_file(tmp_path, capsys):
    train(tmp_path)
    digits = tge.datasets.load_digits()
    np.save(tmp_path / "x.npy", digits.data[:4])  # raw pixels: predict applies the training normalisation
    capsys.readouterr()
    assert cli.main(["predict", str(tmp_path / "checkpoint.npz"), "--input", str(tmp_path / "x.npy")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4


def test_resume_continues_the_same_trajectory(tmp_path):
    straight = Run.start(Config(epochs=4, seed=3))
    rows = list(straight.epochs())
    half = Run.start(Config(epochs=2, seed=3))
    list(half.epochs())
    half.save(tmp_path / "ckpt.npz")
    resumed = Run.resume(tmp_path / "ckpt.npz", epochs=4)
    more = list(resumed.epochs())
    assert [r["train_loss"] for r in more] == [r["train_loss"] for r in rows[2:]]
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path, monkeypatch, capsys):
    calls = {"n": 0}
    real = Run.train_epoch

    def interrupted_second_epoch(self, progress=False):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, progress)

    monkeypatch.setattr(Run, "train_epoch", interrupted_second_epoch)
    assert train(tmp_path) == 130
    assert "interrupted after 1 complete epochs" in capsys.readouterr().err
    monkeypatch.setattr(Run, "train_epoch", real)
    assert cli.main(["train", "--resume", str(tmp_path / "checkpoint.npz"), "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in json.loads((tmp_path / "history.json").read_text())] == [1, 2]


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
        (["train", "--lr", "0"], "must be > 0"),
        (["train", "--lr=-1e-3"], "must be > 0"),
        (["train", "--epochs", "two"], "is not a number"),
        (["train", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    ],
)
def test_bad_arguments_exit_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_dataset_files_say_how_to_get_them(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "mnist", "--root", str(tmp_path), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "download" in err and str(tmp_path) in err


def test_kernel_and_device_knobs_must_agree(capsys):
    assert cli.main(["train", "--kernels", "numpy", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "--kernels cupy with --device cuda" in err and len(err.strip().splitlines()) == 1


def test_lenet_on_tabular_data_is_a_one_line_error(capsys):
    assert cli.main(["train", "--model", "lenet", "--dataset", "breast_cancer"]) == 1
    assert "needs images" in capsys.readouterr().err


def test_the_installed_command_runs_and_fails_without_a_traceback(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "train", "--epochs", "1", "--no-progress",
                         "--out", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "evaluate", str(tmp_path / "nope.npz")],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "does not exist" in bad.stderr


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "cifar10"])
def test_train_reads_the_real_file_formats(dataset, tmp_path, capsys):
    from tests.datasets.helpers import cifar_arrays, cifar_bytes, write, write_mnist

    if dataset == "cifar10":
        for k, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]):
            write(tmp_path / "cifar-10-batches-bin" / name, cifar_bytes(*cifar_arrays(20, seed=k)))
    else:
        raw = tmp_path / {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[dataset] / "raw"
        write_mnist(raw, "train", 100, gz=True)
        write_mnist(raw, "t10k", 20, gz=False, seed=1)
    args = ["train", "--dataset", dataset, "--root", str(tmp_path), "--model", "lenet", "--epochs", "1"]
    assert cli.main([*args, "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    shape, params = ("(3, 32, 32)", "62,006") if dataset == "cifar10" else ("(1, 28, 28)", "61,706")
    assert f"input {shape}" in out and f"lenet ({params} parameters)" in out and "test: loss" in out  # LeNet-5
    assert (tmp_path / "run" / "checkpoint.npz").is_file()
