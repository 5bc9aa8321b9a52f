"""The errors that name the fix, in this process (no MPI started): mpi4py missing, no mpiexec, no group yet."""

from __future__ import annotations

import sys

import pytest

import tinygrad_edu.distributed as dist
from tinygrad_edu.distributed import process_group

LAUNCHER = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MPI_LOCALRANKID", "HYDI_CONTROL_FD")


@pytest.fixture
def no_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCHER:
        monkeypatch.delenv(name, raising=False)


def test_without_mpiexec_init_says_how_to_start_the_program(no_launcher):
    with pytest.raises(dist.DistributedError, match=r"not started by mpiexec.*run it as mpiexec -n 2 python"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_without_mpi4py_init_says_what_to_install(no_launcher, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    monkeypatch.setenv("PMI_RANK", "0")  # as if mpiexec had started us
    assert not dist.is_available()
    with pytest.raises(dist.DistributedError, match=r"needs MPI: pip install mpi4py mpich .*mpiexec -n 2"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_before_init_every_call_says_to_call_init_process_group():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group):
        with pytest.raises(dist.DistributedError, match=r"init_process_group\('mpi'\) first"):
            call()


def test_bad_backend_and_init_method_are_refused_before_mpi_starts(no_launcher):
    with pytest.raises(dist.DistributedError, match="backend 'nccl' is not available here.*'mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(dist.DistributedError, match="the launcher \\(mpiexec\\) tells each rank who it is"):
        dist.init_process_group("mpi", init_method="tcp://127.0.0.1:23456")
    assert process_group._group is None
