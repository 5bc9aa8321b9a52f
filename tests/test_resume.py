"""Exact resume: a run interrupted by Ctrl-C at any moment, then resumed, ends with the same weights, bit for bit.

Interrupts are real SIGINTs sent to this process at chosen moments (mid-batch between backward and
step, twice within microseconds, during the validation pass, during the test pass), so what is
tested is the signal handling of ``tinygrad-edu train`` itself, not a simulated exception.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from tinygrad_edu import cli, optim, serialization, trainer

ARGS = ["--epochs", "3", "--batch-size", "256", "--no-progress", "--seed", "1"]  # digits: 6 batches per epoch

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread"
)


def _final_state(out) -> dict:
    ckpt = serialization.load(out / "checkpoint.npz")
    for row in ckpt["history"]:
        row.pop("seconds")  # wall time is the one thing that may differ
    ckpt["position"].pop("seconds")
    return ckpt


def _assert_identical(a, b, where="ckpt"):
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_identical(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_identical(u, v, f"{where}/{i}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where  # bit for bit, NaN patterns included
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    assert cli.main(["train", *ARGS, "--out", str(out)]) == 0
    return _final_state(out)


def _sigint(times: int = 1) -> None:
    for _ in range(times):
        os.kill(os.getpid(), signal.SIGINT)


def _interrupt_at_step(monkeypatch, step: int, times: int = 1) -> None:
    """SIGINT(s) inside optimizer step number ``step`` (counted from 1), after backward, before the update."""
    real, calls = optim.Adam.step, {"n": 0}

    def step_with_sigint(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == step:
            _sigint(times)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(optim.Adam, "step", step_with_sigint)


def _resume_until_done(out, capsys) -> None:
    ckpt = str(out / "checkpoint.npz")
    assert cli.main(["train", "--resume", ckpt, "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out


@pytest.mark.parametrize(
    "step, times",
    [(1, 1), (4, 1), (6, 1), (7, 2), (11, 5), (18, 1)],  # first batch, mid-epoch, last batch, 2 and 5 signals
)
def test_interrupt_at_any_batch_resumes_bit_identical(step, times, reference, tmp_path, monkeypatch, capsys):
    _interrupt_at_step(monkeypatch, step, times)
    assert cli.main(["train", *ARGS, "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "checkpoint saved" in err and "Traceback" not in err
    saved = serialization.load(tmp_path / "checkpoint.npz")
    done = (saved["epoch"], saved["position"]["batch"])
    assert done == ((step - 1) // 6, (step - 1) % 6 + 1)  # stopped right after that step
    monkeypatch.undo()
    _resume_until_done(tmp_path, capsys)
    _assert_identical(reference, _final_state(tmp_path))


def test_interrupted_again_while_resuming(reference, tmp_path, monkeypatch, capsys):
    _interrupt_at_step(monkeypatch, 3)
    assert cli.main(["train", *ARGS, "--out", str(tmp_path)]) == 130
    _interrupt_at_step(monkeypatch, 5, times=2)  # 5 steps into the resumed run: step 8 of the whole
    assert cli.main(["train", "--resume", str(tmp_path / "checkpoint.npz"), "--no-progress"]) == 130
    monkeypatch.undo()
    _resume_until_done(tmp_path, capsys)
    _assert_identical(reference, _final_state(tmp_path))


@pytest.mark.parametrize("moment", ["validation", "test"])
def test_interrupt_during_evaluation_resumes_bit_identical(moment, reference, tmp_path, monkeypatch, capsys):
    real, calls = (trainer.evaluate, trainer.scores), {"n": 0}

    def evaluate(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second epoch's validation pass
            _sigint(2)
        return real[0](*args, **kwargs)

    def scores(*args, **kwargs):
        _sigint()
        return real[1](*args, **kwargs)

    if moment == "validation":
        monkeypatch.setattr(trainer, "evaluate", evaluate)
    else:
        monkeypatch.setattr(trainer, "scores", scores)
    assert cli.main(["train", *ARGS, "--out", str(tmp_path)]) == 130
    saved = serialization.load(tmp_path / "checkpoint.npz")
    if moment == "validation":
        assert (saved["epoch"], saved["position"]["batch"]) == (1, 6)  # trained, not yet validated
    else:
        assert (saved["epoch"], saved["finished"]) == (3, False)
        assert not (tmp_path / "metrics.json").exists()
    monkeypatch.undo()
    _resume_until_done(tmp_path, capsys)
    _assert_identical(reference, _final_state(tmp_path))
    assert (tmp_path / "metrics.json").exists()


SCRIPT = """
import os, signal, sys
from tinygrad_edu import cli, optim
real, calls = optim.Adam.step, [0]
def step(self, *a, **k):
    calls[0] += 1
    if calls[0] == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C microseconds later
    return real(self, *a, **k)
optim.Adam.step = step
sys.exit(cli.main(sys.argv[2:]))
"""


def test_a_real_process_interrupted_twice_resumes_bit_identical(reference, tmp_path):
    command = [sys.executable, "-c", SCRIPT, "9", "train", *ARGS, "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "checkpoint saved" in done.stderr
    resume = [sys.executable, "-m", "tinygrad_edu.cli", "train", "--resume", str(tmp_path / "checkpoint.npz")]
    done = subprocess.run([*resume, "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    _assert_identical(reference, _final_state(tmp_path))


def test_resume_with_fewer_epochs_or_other_flags_is_one_line(reference, tmp_path, capsys):
    assert cli.main(["train", *ARGS, "--out", str(tmp_path)]) == 0
    ckpt = str(tmp_path / "checkpoint.npz")
    capsys.readouterr()
    outputs = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    cases = [
        (["--epochs", "2"], "already trained 3 epochs, so --epochs 2 is too few"),
        ([], "has finished all 3 epochs: pass --epochs N with N > 3"),
        (["--model", "lenet"], "trained with --model mlp, not --model lenet: drop --model"),
        (["--dataset", "moons"], "trained with --dataset digits, not --dataset moons"),
        (["--optimizer", "sgd"], "trained with --optimizer adam, not --optimizer sgd"),
        (["--seed", "2"], "trained with --seed 1, not --seed 2"),
    ]
    for flags, message in cases:
        assert cli.main(["train", "--resume", ckpt, "--no-progress", *flags]) == 1
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and ckpt in lines[0], (flags, captured.err)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == outputs  # refused: nothing rewritten
    assert cli.main(["train", "--resume", ckpt, "--no-progress", "--model", "mlp", "--epochs", "4"]) == 0
