"""``mpiexec -n P tinygrad-edu train --distributed``: equal to one process on the P-fold batch, resumes mid-epoch
on another number of processes, only rank 0 prints and writes, a failing rank stops every rank with its message.

Each run goes through tests/distributed/cli_driver.py (cli.main plus hooks: a real SIGINT to rank 0 in a chosen
optimizer step, or an exception on a chosen rank, and a log of the files each rank saved). The references
are one-process runs of the same data order, in this process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import cli
from tinygrad_edu.serialization import load
from tinygrad_edu.trainer import Config, Run

pytest.importorskip("mpi4py", reason="pip install mpi4py mpich (the dev extra has them) to run the MPI tests")
DRIVER = Path(__file__).with_name("cli_driver.py")
COMMON = ["--epochs", "2", "--no-progress", "--seed", "3"]


def _mpiexec() -> str:
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec on PATH: pip install mpich")
    return found


def launch(tmp: Path, processes: int, train_args: list[str], *hooks: str) -> tuple[subprocess.CompletedProcess, list]:
    """Run the driver under ``mpiexec -n processes``; returns the result and each rank's log."""
    log = tmp / f"log{len(list(tmp.glob('log*')))}"
    command = [_mpiexec(), "-n", str(processes), sys.executable, str(DRIVER), str(log), *hooks, "--", "train",
               "--distributed", *train_args]  # fmt: skip
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               TINYGRAD_EDU_DIST_TIMEOUT="60")  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, cwd=tmp)
    logs = [json.loads(Path(f"{log}.rank{r}.json").read_text()) if Path(f"{log}.rank{r}.json").exists() else None
            for r in range(processes)]  # fmt: skip
    return done, logs


def weights(path: Path) -> dict[str, np.ndarray]:
    return load(path / "checkpoint.npz")["model"]


def assert_close(ours: dict, theirs: dict, atol: float = 1e-6) -> None:
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=atol, err_msg=key)


def reference(tmp: Path, first_batch: int, steps: int, then_batch: int) -> dict[str, np.ndarray]:
    """One process: ``steps`` steps of ``first_batch`` samples, then the rest of the run on ``then_batch``."""
    run = Run.start(Config(batch_size=first_batch, epochs=2, seed=3))
    done = {"n": 0}

    def stop() -> bool:
        done["n"] += 1
        return done["n"] == steps

    run.stop = stop
    with pytest.raises(KeyboardInterrupt):
        list(run.epochs())
    run.stop = lambda: False
    run.config.batch_size = then_batch
    list(run.epochs())
    return {k: v.numpy() for k, v in run.model.state_dict().items()}


def test_two_processes_equal_one_on_the_doubled_batch_and_only_rank_0_writes(tmp_path):
    done, logs = launch(tmp_path, 2, [*COMMON, "--batch-size", "16", "--out", "two"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli.main(["train", *COMMON, "--batch-size", "32", "--out", str(tmp_path / "one")]) == 0
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "one"))
    history = json.loads((tmp_path / "two" / "history.json").read_text())
    assert [row["processes"] for row in history] == [2, 2] and all(row["comm_seconds"] > 0 for row in history)
    assert logs[1]["writes"] == []  # rank 1 wrote nothing
    assert sorted(logs[0]["writes"]) == ["outputs:two", "two/checkpoint.npz"]
    assert done.stdout.count("epoch   1/2") == 1 and done.stdout.count("test: loss") == 1  # rank 0 prints
    assert "data-parallel on 2 processes: batch 16 per process, 32 per step" in done.stdout


@pytest.mark.parametrize(("first", "then", "stop_at"), [(2, 1, 7), (1, 2, 9)])
def test_a_checkpoint_resumes_mid_epoch_on_another_number_of_processes(tmp_path, first, then, stop_at):
    done, logs = launch(tmp_path, first, [*COMMON, "--batch-size", "16", "--out", "run"], "--sigint-at", str(stop_at))
    assert done.returncode == 130, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("interrupted after batch") == 1
    ckpt = load(tmp_path / "run" / "checkpoint.npz")
    assert ckpt["epoch"] == 0 and ckpt["position"]["seen"] == stop_at * 16 * first  # the global progress
    assert all(log["steps"] == stop_at for log in logs)  # every rank stopped after the same step
    done, _ = launch(tmp_path, then, ["--resume", "run/checkpoint.npz", "--no-progress"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resuming run/checkpoint.npz at epoch 0/2 (batch {-(-stop_at * first // then)}/" in done.stdout
    assert_close(weights(tmp_path / "run"), reference(tmp_path, 16 * first, stop_at, 16 * then))


@pytest.mark.parametrize("failing", [1, 0])  # a worker, then the rank that writes
def test_a_failing_rank_stops_every_rank_with_its_message(tmp_path, failing):
    done, logs = launch(tmp_path, 2, [*COMMON, "--batch-size", "16", "--out", "run"], "--fail-at", "3",
                        "--fail-rank", str(failing))  # fmt: skip
    assert done.returncode != 0
    assert f"error: [rank {failing}] injected failure in step 3" in done.stderr  # the failing rank's own line
    # the other rank stopped with it, in its next collective
    assert f"error: rank {failing} failed: ValueError: injected failure in step 3" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert all(log["steps"] <= 3 for log in logs)  # nobody trained on alone
    assert logs[0]["writes"] == logs[1]["writes"] == []  # no checkpoint, not even a half one
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_distributed_without_mpiexec_is_a_group_of_one(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for launcher in [k for k in env if k.startswith(("PMI_", "HYDI_", "OMPI_", "PMIX_"))]:
        del env[launcher]
    command = [sys.executable, "-m", "tinygrad_edu.cli", "train", "--distributed", *COMMON, "--batch-size", "32",
               "--out", "alone"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "data-parallel on 1 process: batch 32 per process, 32 per step" in done.stdout
    assert cli.main(["train", *COMMON, "--batch-size", "32", "--out", str(tmp_path / "plain")]) == 0
    assert_close(weights(tmp_path / "alone"), weights(tmp_path / "plain"))
