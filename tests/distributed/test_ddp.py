"""Data parallelism under a real ``mpiexec -n 2``: equivalence with one process, collectives, faults.

Each test launches tests/distributed/mpi_worker.py with mpiexec (skipped, with the reason, when mpi4py or
mpiexec is missing; the dev extra installs both). The one-process reference runs the same worker without
mpiexec, as a group of one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="pip install mpi4py mpich (the dev extra has them) to run the MPI tests")
WORKER = Path(__file__).with_name("mpi_worker.py")


def _mpiexec() -> str:
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec on PATH: pip install mpich")
    return found


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **extra)
    return env


def run_worker(tmp_path: Path, scenarios: str, processes: int, **env: str) -> subprocess.CompletedProcess:
    out = tmp_path / f"{scenarios.replace(',', '_')}-{processes}"
    command = [sys.executable, str(WORKER), scenarios, str(out)]
    if processes > 1:
        command = [_mpiexec(), "-n", str(processes), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env(**env), cwd=tmp_path)


def results(tmp_path: Path, scenarios: str, processes: int, rank: int = 0) -> dict[str, np.ndarray]:
    done = run_worker(tmp_path, scenarios, processes)
    assert done.returncode == 0, done.stdout + done.stderr
    with np.load(tmp_path / f"{scenarios.replace(',', '_')}-{processes}.rank{rank}.npz") as f:
        return dict(f)


TRAINING = "sgd32,adam32,sgd64,adam64,accumulate"
ALL_TWO = TRAINING + ",buffers,collectives,construct,api"


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("mpi")
    both = results(tmp, ALL_TWO, 2, rank=0)
    return both, dict(np.load(tmp / f"{ALL_TWO.replace(',', '_')}-2.rank1.npz"))


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return results(tmp_path_factory.mktemp("single"), TRAINING + ",api", 1)


@pytest.mark.parametrize(("scenario", "atol"), [("sgd32", 1e-6), ("adam32", 1e-6), ("sgd64", 1e-12), ("adam64", 1e-12)])
def test_two_processes_on_32_equal_one_process_on_64(two, one, scenario, atol):
    rank0, rank1 = two
    keys = [k for k in one if k.startswith(scenario + "/") and not k.endswith("buckets")]
    assert len(keys) == 4  # two weights, two biases
    gap = max(float(np.max(np.abs(rank0[key] - one[key]))) for key in keys)
    print(f"{scenario}: max |w(2 processes x 32) - w(1 process x 64)| after 20 steps = {gap:.2e} (bound {atol:g})")
    for key in keys:
        np.testing.assert_allclose(rank0[key], one[key], rtol=0, atol=atol, err_msg=key)
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=f"{key}: the ranks' copies differ")


def test_construction_broadcasts_rank_0s_parameters_and_buffers(two):
    for out in two:
        before, after = out["construct/before"], out["construct/after"]
        assert not np.allclose(before[0], before[1])  # each rank initialised its own weights and running mean
        np.testing.assert_array_equal(after, [before[0], before[0]])  # afterwards every rank has rank 0's


def test_the_group_bookkeeping_and_its_errors(two, one):
    for rank, out in [(0, two[0]), (1, two[1]), (0, one)]:
        world = 1 if out is one else 2
        assert bool(out["api/initialized"]) and out["api/rank_world"].tolist() == [rank, world]
        assert str(out["api/twice"]) == (
            "DistributedError: init_process_group() was called twice; call destroy_process_group() first"
        )
        assert f"rank {world} does not exist in a world of {world}" in str(out["api/bad_src"])
        assert f"tensor_list has {world + 1} tensors for a world of {world}" in str(out["api/gather_count"])
        assert str(out["api/device_ids"]).startswith("ValueError: DistributedDataParallel: device_ids")
        assert "2 parameter(s) received no gradient" in str(out["api/unused"])
        assert "find_unused_parameters=True" in str(out["api/unused"])
        assert str(out["api/unused_allowed"]) == "no error"
        np.testing.assert_array_equal(out["api/unused_grad"], np.zeros((2, 2)))
        assert not bool(out["api/after_destroy"])
        for key in ("all_reduce_after", "rank_after", "ddp_without"):
            assert "init_process_group('mpi') first" in str(out[f"api/{key}"]), key
        assert "backend 'nccl' is not available here" in str(out["api/nccl"])
        if world == 1:  # no mpiexec: the error says how to start the program
            assert "not started by mpiexec" in str(out["api/world_size"])
            assert "mpiexec -n 2 python" in str(out["api/world_size"])
        else:
            assert f"disagrees with mpiexec, which started 2 processes and made this one rank {rank}" in str(
                out["api/world_size"]
            )
        np.testing.assert_array_equal(out["api/again"], [world, world])  # destroy, then init again, works


def test_gradients_travel_in_buckets_in_reverse_order(two):
    rank0, _ = two
    # bucket_cap_mb=0.0005 (524 bytes): float32 Linear(12,16)+Linear(16,3) → 2.bias+2.weight+0.bias | 0.weight
    assert rank0["sgd32/buckets"].tolist() == [3, 1]
    assert rank0["sgd64/buckets"].tolist() == [2, 1, 1]


def test_no_sync_accumulates_locally_then_averages_the_sum(two, one):
    rank0, rank1 = two
    np.testing.assert_allclose(rank0["accumulate/grad"], one["accumulate/grad"], atol=1e-6)
    np.testing.assert_array_equal(rank0["accumulate/grad"], rank1["accumulate/grad"])
    assert not np.allclose(rank0["accumulate/local"], rank1["accumulate/local"])  # no communication inside no_sync


def test_buffers_start_every_forward_from_rank_0s(two):
    for rank in two:
        after_first, after_second, batch_mean = (
            rank["buffers/after_first"],
            rank["buffers/after_second"],
            rank["buffers/batch_mean"],
        )
        assert not np.allclose(after_first[0], after_first[1])  # each rank updated from its own data
        np.testing.assert_allclose(after_second, 0.9 * after_first[0] + 0.1 * batch_mean, rtol=1e-5, atol=1e-6)


def test_collectives_give_the_known_values(two):
    rank0, rank1 = two
    for r, out in enumerate(two):
        np.testing.assert_array_equal(out["collectives/SUM"], [3.0, -3.0])
        np.testing.assert_array_equal(out["collectives/PRODUCT"], [2.0, 2.0])
        np.testing.assert_array_equal(out["collectives/MIN"], [1.0, -2.0])
        np.testing.assert_array_equal(out["collectives/MAX"], [2.0, -1.0])
        np.testing.assert_array_equal(out["collectives/AVG"], [1.5, -1.5])
        np.testing.assert_array_equal(out["collectives/broadcast"], [1.0, 1.0, 1.0])
        np.testing.assert_array_equal(out["collectives/all_gather"], [[0.0, 0.0], [1.0, 10.0]])
        np.testing.assert_array_equal(out["collectives/reduce_scatter"], [20.0 * r + 1.0, 2.0])  # (10r + 0) + (10r + 1)
    assert int(rank1["collectives/sender"]) == 0
    np.testing.assert_array_equal(rank1["collectives/recv"], [3.0, 4.0])


def test_a_rank_that_raises_stops_every_rank_with_its_message(tmp_path):
    done = run_worker(tmp_path, "fail", 2)
    assert done.returncode != 0
    assert "[rank 1] failed" in done.stderr and "ValueError: boom on rank 1" in done.stderr
    assert "[rank 0] stopped: rank 1 failed: ValueError: boom on rank 1" in done.stderr


def test_a_rank_that_never_arrives_times_out_instead_of_hanging(tmp_path):
    done = run_worker(tmp_path, "hang", 2, TINYGRAD_EDU_DIST_TIMEOUT="2")
    assert done.returncode != 0
    assert "DistributedTimeout: all_reduce on rank 0 waited 2 s" in done.stderr
